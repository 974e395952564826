"""Every job the relay enqueues names a function that exists: RQ resolves the string only when a
worker runs the job, so a moved function would otherwise fail in production, not here."""

import pytest
from rq.utils import import_attribute

from relay.campaigns.runs import PLAN_JOB
from relay.contacts.imports import RUN_JOB
from relay.delivery.queue import DELIVER_JOB, DRAIN_JOB
from relay.platforms.writeback import WRITEBACK_JOB


@pytest.mark.parametrize(
    "path",
    [
        DELIVER_JOB,
        DRAIN_JOB,
        WRITEBACK_JOB,
        PLAN_JOB,
        RUN_JOB,
        "relay.jobs.handle_inbound",  # enqueued by the after-commit hook
        "relay.jobs.reply_writeback",  # enqueued by replies.forward_reply
        "relay.jobs.sweep",
    ],
)
def test_job_path_resolves_to_a_function(path: str) -> None:
    assert callable(import_attribute(path))
