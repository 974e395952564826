"""RQ job entry points (`ctx.enqueue("connectors.bitrix24.jobs.<name>", record_id)`).

Each job receives an inbox record id, re-reads the record and skips one that is already
`done` or `skipped`, so a redelivered job is harmless; a `failed` record is processed again,
which is how an operator replays one (enqueue the same job with the same id). Every outcome,
including errors, ends up in the record: jobs do not raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.bitrix24 import crm, install, smsprovider
from connectors.bitrix24.defaults import PLATFORM
from connectors.bitrix24.errors import B24Error, PortalUnavailable, ReinstallRequired
from connectors.bitrix24.writeback import run_calls
from shared.client import RelayClientError
from shared.connector import ConnectorContext, InboxRecord, get_context

log = logging.getLogger("connectors.bitrix24.jobs")
FINAL = ("done", "skipped")


def _run(record_id: int, work: Callable[[ConnectorContext, InboxRecord], tuple[str, str]]) -> str:
    ctx = get_context(PLATFORM)
    record = ctx.inbox.load(int(record_id))
    if record is None:
        log.warning("inbox record not found", extra={"record": record_id})
        return "missing"
    if record.status in FINAL:
        return record.status
    try:
        status, detail = work(ctx, record)
    except ReinstallRequired as exc:
        status, detail = "failed", f"needs_reinstall: {exc}"
    except PortalUnavailable as exc:
        status, detail = "failed", f"portal unavailable, replay later: {exc}"
    except B24Error as exc:
        status, detail = "failed", f"bitrix24 error: {exc}"
    except RelayClientError as exc:
        status, detail = "failed", f"relay error, replay later: {exc}"
    except Exception as exc:  # the record must say what happened, whatever happened
        log.exception("bitrix24 job crashed", extra={"record": record_id})
        status, detail = "failed", f"unexpected {type(exc).__name__}: {exc}"
    ctx.inbox.finish(record.id, status, detail)
    return status


def process_event(record_id: int) -> str:
    """A CRM event (deal, lead, smart-process item)."""
    return _run(record_id, crm.handle_crm_event)


def process_sms(record_id: int) -> str:
    """A request to our SMS provider."""
    return _run(record_id, smsprovider.handle_sms)


def bind_portal(record_id: int) -> str:
    """After an install or an app update: bind events and register the provider."""
    return _run(record_id, lambda ctx, rec: ("done", install.bind_portal(ctx, rec.account)))


def uninstall(record_id: int) -> str:
    """ONAPPUNINSTALL."""
    return _run(record_id, lambda ctx, rec: ("done", install.uninstall(ctx, rec.account)))


def replay_writeback(record_id: int) -> str:
    """Repeat the REST calls of a failed write-back record."""

    def work(ctx: ConnectorContext, rec: InboxRecord) -> tuple[str, str]:
        calls = [(str(m), dict(p)) for m, p in rec.payload.get("calls") or []]
        return "done", run_calls(ctx, rec.account, calls)

    return _run(record_id, work)
