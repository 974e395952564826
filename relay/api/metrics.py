"""GET /metrics: the host's Prometheus metrics, for the operator's scraper (operator token).

Counters and histograms come from every web and worker process of this host
(relay/adapters/metrics.py, multiprocess mode); queue depth, the oldest queued message and
the intake spool are read when scraped, so any web process of any host gives the same
cluster-wide queue figures (from Redis and the database) and its own host's spool.
Requests to it and their counts are exempt from nothing: it needs RELAY_ADMIN_TOKEN.
"""

from __future__ import annotations

from datetime import UTC

from flask import Response, current_app, request
from rq import Queue
from sqlalchemy import func, select

from relay.adapters import metrics
from relay.api.http import blueprint, db, operator_only, runtime
from relay.api.spec import documented
from relay.api.spool_http import EVENTS_PATH, WEBHOOK_PREFIX, app_spool
from relay.platforms.writeback import WRITEBACK_QUEUE
from relay.storage.models import Message

bp = blueprint("metrics", __name__, url_prefix="")


@bp.after_app_request
def _count_intake(response: Response) -> Response:
    """Intake rate by answer: events and platform webhooks (spooled ones included)."""
    if request.method == "POST":
        if request.path == EVENTS_PATH:
            metrics.intake_answered("events", response.status_code)
        elif request.path.startswith(WEBHOOK_PREFIX):
            metrics.intake_answered("webhook", response.status_code)
    return response


def _live() -> list[metrics.Sample]:
    rt = runtime()
    samples: list[metrics.Sample] = []
    for name in (rt.config["QUEUE_NAME"], WRITEBACK_QUEUE):
        queue = Queue(name, connection=rt.redis)
        samples.append(("relay_queue_depth", "Jobs waiting on an RQ queue", {"queue": name},
                        float(queue.count)))  # fmt: skip
        samples.append(("relay_queue_scheduled", "Jobs scheduled for later on an RQ queue",
                        {"queue": name}, float(queue.scheduled_job_registry.count)))  # fmt: skip
    # event traffic waits as message ids on a list drained by batch jobs (relay/delivery/queue.py)
    samples.append(("relay_delivery_pending", "Message ids waiting for a delivery drain job", {},
                    float(rt.dispatcher.pending())))  # fmt: skip
    oldest = db().scalar(
        select(func.min(func.coalesce(Message.enqueued_at, Message.created_at))).where(
            Message.status == "queued"
        )
    )
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max(0.0, (rt.now() - oldest).total_seconds())
    help_text = "Age of the oldest message waiting in `queued` (0: none)"
    samples.append(("relay_oldest_queued_seconds", help_text, {}, age))
    status = app_spool(current_app).status()
    for name, help_text, value in (
        ("relay_spool_bytes", "Bytes in this host's intake spool", status.bytes),
        ("relay_spool_pending", "Requests in this host's intake spool not yet replayed",
         status.pending),
        ("relay_spool_full", "1 while this host's intake spool refuses requests", status.full),
    ):  # fmt: skip
        samples.append((name, help_text, {}, float(value)))
    return samples


@bp.get("/metrics")
@documented(
    "Prometheus metrics of this host (text format; operator token)",
    tags=("meta",),
    produces="text/plain",
)
@operator_only
def scrape() -> Response:
    """Counters of every relay process on this host and the gauges of now."""
    body, content_type = metrics.exposition(_live)
    return Response(body, content_type=content_type)
