"""The intake spool: requests that could not reach the database wait in a local journal.

See docs/architecture.md, 'The intake spool', and docs/security.md, 'Durable intake spool'.
When the database is unavailable, an event (`POST /v1/events`) or a
connector webhook that passed every check the relay can make without the database is written,
encrypted with RELAY_SECRET_KEY, to this process's journal and answered 202. A replayer sends
each spooled request again, in the order received, through the same HTTP route once the
database answers; the route is idempotent (an event by its `event_id`, a webhook by its
delivery in the connector inbox), so a request replayed twice is recorded once.

Which requests may be spooled is decided where the checks are made: a route calls `admit()`
once the caller is authenticated (an API key the process has seen recently, a webhook verified
against a secret it has read recently); only an admitted request that then failed with the
database down is spooled. Everything else is 503 with Retry-After.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from relay.adapters import spool_journal as journal_file
from relay.adapters.crypto import SecretBox
from relay.adapters.spool_journal import Journal, JournalFull

log = logging.getLogger("relay.spool")

# headers a replay does not need (or must not carry: the length comes from the body)
_DROPPED_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "cookie"}
RETRY_AFTER_SECONDS = 30

_ADMITTED: ContextVar[bool] = ContextVar("relay_spool_admitted", default=False)


def admit() -> None:
    """The current request passed its route's checks: it may be spooled if the database fails."""
    _ADMITTED.set(True)


def admitted() -> bool:
    """Whether the current request was admitted (see `admit`)."""
    return _ADMITTED.get()


def reset_admission() -> None:
    """Forget the previous request's admission (at the start of every request)."""
    _ADMITTED.set(False)


@dataclass(frozen=True)
class SpooledRequest:
    """An HTTP request as received, enough to send it again through the same route."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    remote_addr: str | None
    received_at: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.method not in ("POST", "PUT"):
            raise ValueError(f"only POST and PUT requests are spooled, got {self.method!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"a path starts with '/', got {self.path!r}")

    @classmethod
    def capture(
        cls,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        remote_addr: str | None,
    ) -> SpooledRequest:
        """The request to keep, without the headers a replay must not repeat."""
        kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS]
        return cls(method, path, query, kept, body, remote_addr, datetime.now(UTC).isoformat())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the body base64)."""
        data = asdict(self)
        data["body"] = base64.b64encode(self.body).decode("ascii")
        data["headers"] = [list(h) for h in self.headers]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpooledRequest:
        """The inverse of `to_dict`."""
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            query=str(data.get("query") or ""),
            headers=[(str(k), str(v)) for k, v in data.get("headers") or []],
            body=base64.b64decode(data.get("body") or ""),
            remote_addr=data.get("remote_addr"),
            received_at=str(data["received_at"]),
            id=str(data["id"]),
        )


@dataclass
class SpoolStatus:
    """What waits in the spool directory."""

    journals: int = 0
    pending: int = 0
    bytes: int = 0
    max_bytes: int = 0
    full: bool = False

    def as_dict(self) -> dict[str, Any]:
        """For `relay spool status --json` and logs."""
        return asdict(self)


@dataclass
class ReplayReport:
    """What one replay pass did."""

    replayed: int = 0  # answered 2xx: recorded, or found already recorded
    refused: int = 0  # answered 4xx when replayed (a revoked key, a 409 event_id conflict …)
    waiting: int = 0  # left in the journal: the database (or the route) still fails
    journals_removed: int = 0
    answers: dict[int, int] = field(default_factory=dict)  # status → count

    def as_dict(self) -> dict[str, Any]:
        """For `relay spool replay --json` and logs."""
        return asdict(self)


Deliver = Callable[[SpooledRequest], int]  # send the request again; its HTTP status


class Spool:
    """The spool directory, this process's journal in it, and the replay of all of them."""

    def __init__(self, folder: Path, max_bytes: int, box: SecretBox) -> None:
        if max_bytes < 1:
            raise ValueError(f"the spool needs a positive size bound, got {max_bytes!r}")
        self.folder = folder
        self.max_bytes = max_bytes
        self._box = box
        self._lock = threading.Lock()
        self._journal: Journal | None = None
        self._pid = os.getpid()
        self._full_alarm = False

    # ---- writing ---------------------------------------------------------------------------

    def _own(self) -> Journal:
        if self._journal is not None and self._pid == os.getpid():
            return self._journal
        self._pid = os.getpid()  # a forked child never writes into its parent's journal
        name = f"intake-{socket.gethostname()}-{self._pid}-{uuid.uuid4().hex[:8]}"
        self._journal = Journal(self.folder / (name + journal_file.SUFFIX))
        return self._journal

    def write(self, request: SpooledRequest) -> None:
        """Append the request durably; JournalFull when the bound or the disk refuses it."""
        payload = self._box.seal(request.to_dict()).encode("ascii")
        with self._lock:
            used = journal_file.directory_bytes(self.folder)
            if used + len(payload) + 32 > self.max_bytes:
                self._alarm(used)
                raise JournalFull(f"the spool holds {used} bytes of {self.max_bytes}")
            try:
                self._own().append(payload)
            except (JournalFull, OSError) as exc:
                self._alarm(used)
                raise JournalFull(str(exc)) from exc
            self._full_alarm = False
        log.warning(
            "database unavailable: request spooled",
            extra={"spool_id": request.id, "path": request.path},
        )

    def _alarm(self, used: int) -> None:
        if not self._full_alarm:
            # the one line an operator must see: intake is now refused with 503
            log.error(
                "intake spool full: requests are refused with 503 until it is replayed",
                extra={"spool_bytes": used, "spool_max_bytes": self.max_bytes},
            )
        self._full_alarm = True

    # ---- looking ---------------------------------------------------------------------------

    def status(self) -> SpoolStatus:
        """Journals, records not yet replayed, bytes used (read from the files)."""
        found = SpoolStatus(max_bytes=self.max_bytes)
        for path in journal_file.journals(self.folder):
            try:
                start = journal_file.done_offset(path)
                pending = sum(1 for _ in journal_file.read_entries(path, start))
            except FileNotFoundError:
                continue
            found.journals += 1
            found.pending += pending
        found.bytes = journal_file.directory_bytes(self.folder)
        found.full = self._full_alarm or found.bytes >= self.max_bytes
        return found

    def is_full(self) -> bool:
        """Whether the last write was refused or the directory is at its bound."""
        return self._full_alarm or journal_file.directory_bytes(self.folder) >= self.max_bytes

    def has_pending(self) -> bool:
        """Whether any journal is in the directory (cheap: no file is read)."""
        return bool(journal_file.journals(self.folder))

    # ---- replaying -------------------------------------------------------------------------

    def replay(self, deliver: Deliver) -> ReplayReport:
        """Send every spooled request again, each journal in order, stopping a journal at the
        first 5xx (the database is still down; its records wait for the next pass)."""
        report = ReplayReport()
        own = self._journal.path if self._journal is not None and self._pid == os.getpid() else None
        for path in journal_file.journals(self.folder):
            if path == own:
                self._replay_own(deliver, report)
                continue
            fd = journal_file.try_lock(path)
            if fd is None:
                continue  # its process lives and replays it itself
            try:
                if self._replay_file(path, deliver, report):
                    journal_file.remove(path)
                    report.journals_removed += 1
            finally:
                os.close(fd)
        if report.replayed or report.refused:
            log.info("spool replayed", extra=report.as_dict())
        return report

    def _replay_own(self, deliver: Deliver, report: ReplayReport) -> None:
        journal = self._journal
        if journal is None:
            return
        if not self._replay_file(journal.path, deliver, report):
            return
        with self._lock:
            # nothing was appended meanwhile: the journal is done, the next write starts anew
            if journal_file.done_offset(journal.path) >= os.path.getsize(journal.path):
                journal.close()
                journal_file.remove(journal.path)
                self._journal = None
                report.journals_removed += 1

    def _replay_file(self, path: Path, deliver: Deliver, report: ReplayReport) -> bool:
        """Replay from the marker on; True when every record has been answered below 500."""
        start = journal_file.done_offset(path)
        entries = list(journal_file.read_entries(path, start))
        for index, entry in enumerate(entries):
            try:
                request = SpooledRequest.from_dict(self._box.open(entry.payload.decode("ascii")))
            except (ValueError, KeyError, TypeError) as exc:
                # another RELAY_SECRET_KEY, or a damaged record: keep the file for the operator
                log.error(
                    "spooled record unreadable; the journal is kept",
                    extra={"journal": path.name, "error": str(exc)},
                )
                report.waiting += len(entries) - index
                return False
            status = deliver(request)
            report.answers[status] = report.answers.get(status, 0) + 1
            if status >= 500:
                report.waiting += len(entries) - index
                return False
            if status >= 400:
                report.refused += 1
                log.warning(
                    "spooled request refused when replayed",
                    extra={"spool_id": request.id, "path": request.path, "status": status},
                )
            else:
                report.replayed += 1
            journal_file.mark_done(path, entry.end)
        return True


def spool_from_config(config: dict[str, Any], box: SecretBox) -> Spool:
    """The spool of RELAY_SPOOL_DIR, bounded by RELAY_SPOOL_MAX_MB."""
    return Spool(Path(config["SPOOL_DIR"]), int(float(config["SPOOL_MAX_MB"]) * 1024 * 1024), box)


class Replayer:
    """A daemon thread that replays the spool every few seconds while anything waits in it."""

    def __init__(
        self,
        spool: Spool,
        deliver: Deliver,
        database_up: Callable[[], bool],
        interval: float,
    ) -> None:
        self.spool, self.deliver, self.database_up = spool, deliver, database_up
        self.interval = interval
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread once per process (a no-op when the interval is 0)."""
        if self.interval <= 0:
            return
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="spool-replayer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                if self.spool.has_pending() and self.database_up():
                    self.spool.replay(self.deliver)
            except Exception:  # keep trying; the error is logged (and reaches Sentry)
                log.exception("spool replay failed")
