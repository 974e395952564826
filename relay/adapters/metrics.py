"""Prometheus metrics, shared by every web and worker process of a host.

Counters and histograms are recorded where things happen (intake, a gateway call, a receipt)
and kept in prometheus-client's multiprocess mode: each process writes its own small mmap
files under one folder, and a scrape of `/metrics` on any web process sums the files of all
processes of the host, gunicorn's and the RQ workers' alike.
The folder is RELAY_METRICS_DIR (default `var/metrics`); it must be set before
prometheus-client is imported, so this module sets PROMETHEUS_MULTIPROC_DIR itself and is the
only place that imports it. Empty the folder when the host's relay processes (re)start
(docs/deploy.md); the counters then start from zero, which Prometheus' `rate()` expects.

Labels carry only gateway names, statuses and outcomes: never a phone number, a text, a
tenant's key or a token (docs/security.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def metrics_dir() -> Path:
    from relay.config import VAR_DIR

    return Path(os.environ.get("RELAY_METRICS_DIR") or VAR_DIR / "metrics")


_DIR = metrics_dir()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_DIR)
_made: list[bool] = []


def _folder() -> None:
    """Make the folder on the first value recorded, not on import: a command that only fails
    (no database yet) leaves nothing behind."""
    if not _made:
        _DIR.mkdir(parents=True, exist_ok=True)
        _made.append(True)


from prometheus_client import Counter, Histogram  # noqa: E402  (after the folder is set)

# Gateway calls take from a millisecond (a local SMSC) to seconds (an HTTP API abroad).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Receipts come from seconds (SMPP) to hours (a handset switched off).
LAG_BUCKETS = (1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)

INTAKE = Counter(
    "relay_intake_requests",
    "Requests to POST /v1/events (route `events`) and platform webhooks (`webhook`), by status",
    ["route", "code"],
)
SENDS = Counter(
    "relay_sends",
    "Messages handed to a gateway, by gateway and outcome (sent, error)",
    ["gateway", "status"],
)
GATEWAY_LATENCY = Histogram(
    "relay_gateway_call_seconds",
    "Time of one gateway call (a batch of messages sent together), by gateway",
    ["gateway"],
    buckets=LATENCY_BUCKETS,
)
RECEIPTS = Counter(
    "relay_receipts",
    "Delivery receipts received, by gateway and what was done with them",
    ["gateway", "result"],
)
RECEIPT_LAG = Histogram(
    "relay_receipt_lag_seconds",
    "From the gateway call to its delivery receipt being applied, by gateway",
    ["gateway"],
    buckets=LAG_BUCKETS,
)


def intake_answered(route: str, code: int) -> None:
    """One intake request answered with HTTP status `code`."""
    _folder()
    INTAKE.labels(route, str(code)).inc()


@contextmanager
def gateway_call(gateway: str) -> Iterator[None]:
    """Time one gateway call (also when it raises)."""
    _folder()
    started = time.perf_counter()
    try:
        yield
    finally:
        GATEWAY_LATENCY.labels(gateway).observe(time.perf_counter() - started)


def sends_recorded(gateway: str, results: Sequence[object], error_type: type) -> None:
    """Count a call's results: an instance of `error_type` is an error, anything else sent."""
    _folder()
    errors = sum(isinstance(r, error_type) for r in results)
    if errors:
        SENDS.labels(gateway, "error").inc(errors)
    if len(results) - errors:
        SENDS.labels(gateway, "sent").inc(len(results) - errors)


def receipt_applied(gateway: str, result: str, sent_at: datetime | None, now: datetime) -> None:
    """One receipt; its lag when it moved a message whose gateway call time is known."""
    _folder()
    RECEIPTS.labels(gateway, result).inc()
    if result == "applied" and sent_at is not None:
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=UTC)
        RECEIPT_LAG.labels(gateway).observe(max(0.0, (now - sent_at).total_seconds()))


# (name, help, labels, value): a gauge read at scrape time, not kept in any process
Sample = tuple[str, str, dict[str, str], float]


class _Live:
    """A collector of gauges computed when scraped (queue depth, oldest queued, spool)."""

    def __init__(self, sample: Callable[[], list[Sample]]) -> None:
        self.sample = sample

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        families: dict[str, GaugeMetricFamily] = {}
        for name, help_text, labels, value in self.sample():
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
        yield from families.values()


def exposition(sample: Callable[[], list[Sample]]) -> tuple[bytes, str]:
    """The text format of every process's counters and histograms of this host (summed from
    the multiprocess folder) and of `sample()`'s gauges: (body, content type)."""
    _folder()
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(_DIR))  # type: ignore[no-untyped-call]
    registry.register(_Live(sample))  # a Collector: it has collect()
    return generate_latest(registry), CONTENT_TYPE_LATEST


def reset_folder() -> None:
    """Remove every process's files: for a host's relay processes starting afresh (their
    counters restart at 0; files of processes gone would otherwise be summed for ever)."""
    for path in _DIR.glob("*.db"):
        path.unlink(missing_ok=True)
