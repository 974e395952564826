"""Imports of uploaded files: address books, stop-lists, consent records.

One engine for all three. The file is saved under the upload directory, checked (is it an
xlsx or a csv, is there a phone column) before anything is written, and then read row by row
into the database in chunks of 1,000 inside ONE transaction, so a file that turns out to be
damaged at row 80,000 leaves nothing behind. Bad rows do not stop an import: they are
counted and the first 1,000 are reported (row number, value, reason).

Small files (fewer than INLINE_MAX_ROWS rows) are imported inside the request; bigger ones by
the RQ job `relay.jobs.run_import`, with live progress in Redis (a long transaction cannot
update its own ImportJob row where another process could read it, on SQLite least of all) and
the final figures written to the ImportJob row in the import's transaction.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT
from sqlalchemy.orm import Session

from relay.adapters.tabular import cell_text, detect_kind, estimate_rows, invalid_file, iter_rows
from relay.compliance.consent_ledger import ConsentImporter
from relay.compliance.stoplist_admin import StopImporter
from relay.config import VAR_DIR
from relay.contacts.addressbook_import import BookImporter
from relay.contacts.import_rows import Importer, RowReport
from relay.errors import RelayError
from relay.runtime import Runtime
from relay.storage.models import ImportJob, Tenant

log = logging.getLogger("relay.imports")

INLINE_MAX_ROWS = 5_000  # below this the request imports the file itself
CHUNK_ROWS = 1_000  # rows per INSERT and per progress update
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PROGRESS_TTL = 24 * 3600
RUN_JOB = "relay.jobs.run_import"
ACTIVE = ("running",)  # the model's statuses: running | done | failed


@dataclass(frozen=True)
class Upload:
    """A file saved under the upload directory, with what it was called and what it is."""

    path: Path
    filename: str
    kind: str  # xlsx | csv
    size: int


def upload_dir(rt: Runtime) -> Path:
    """Where uploads wait for their import (shared with the workers: VAR_DIR/uploads)."""
    path = Path(rt.config.get("UPLOAD_DIR") or VAR_DIR / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_limit(rt: Runtime) -> int:
    """The largest accepted upload in bytes (RELAY_MAX_UPLOAD_BYTES, default 50 MB)."""
    return int(rt.config.get("MAX_UPLOAD_BYTES") or MAX_UPLOAD_BYTES)


def too_large(limit: int) -> RelayError:
    """The 413 every oversized upload gets, however it was noticed."""
    return RelayError(
        "file_too_large",
        f"the file is larger than {limit // (1024 * 1024) or limit} "
        f"{'MB' if limit >= 1024 * 1024 else 'bytes'}; split it into smaller files",
        413,
        {"file": [f"at most {limit} bytes"]},
    )


def store_upload(rt: Runtime, stream: IO[bytes], filename: str) -> Upload:
    """Copy an uploaded stream to the upload directory, counting bytes against the limit.

    The Content-Length check in the API catches honest clients early; this count catches a
    chunked or lying one. The file's type comes from its bytes, not from its name.
    """
    limit = upload_limit(rt)
    suffix = ".xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    path = upload_dir(rt) / f"{secrets.token_hex(12)}{suffix}"
    size = 0
    try:
        with open(path, "wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
        kind = detect_kind(path, filename)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path=path, filename=filename, kind=kind, size=size)


def _importer_class(kind: str) -> type[Importer]:
    # imported here: the kind modules import this one's siblings, and the RQ job needs them all

    for cls in (BookImporter, StopImporter, ConsentImporter):
        if cls.kind == kind:
            return cls
    raise ValueError(f"unknown import kind {kind!r}")


def inspect_upload(upload: Upload, job_kind: str) -> int:
    """Check the file can be imported (readable, has a phone column); return its row estimate.

    Reads the first non-empty row only, so a 50 MB file answers at once.
    """
    cls = _importer_class(job_kind)
    with closing(iter_rows(upload.path, upload.kind)) as rows:  # closes the workbook at once
        for _number, cells in rows:
            if any(cell_text(c) for c in cells):
                cls.detect_layout(cells)
                break
        else:
            raise invalid_file("the file has no rows")
    return estimate_rows(upload.path, upload.kind)


def create_job(
    session: Session, tenant: Tenant, kind: str, estimate: int, now: Any, target_id: Any = None
) -> ImportJob:
    """A new ImportJob in the caller's transaction (flushed, so it has an id)."""
    job = ImportJob(
        tenant_id=tenant.id,
        kind=kind,
        target_id=None if target_id is None else str(target_id),
        status="running",
        total=max(estimate - 1, 0),  # minus the header row, which is the usual case
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def runs_inline(estimate: int) -> bool:
    """Whether a file this size is imported inside the request."""
    return estimate < INLINE_MAX_ROWS


def progress_key(job_id: int) -> str:
    """The Redis hash holding a running job's live counters."""
    return f"relay:import:{job_id}"


def _publish(rt: Runtime, job_id: int, **counts: int) -> None:
    # best effort: a Redis hiccup must not fail an import that the database can finish
    try:
        fields: dict[FieldT, EncodableT] = {name: n for name, n in counts.items()}
        pipe = rt.redis.pipeline()
        pipe.hset(progress_key(job_id), mapping=fields)
        pipe.expire(progress_key(job_id), PROGRESS_TTL)
        pipe.execute()
    except RedisError:
        log.warning("import %s: progress not published (Redis unavailable)", job_id)


def run_import(
    session: Session, rt: Runtime, job: ImportJob, upload: Upload, options: dict[str, Any]
) -> ImportJob:
    """Import the whole file into the caller's transaction; the caller commits or rolls back."""
    tenant = session.get(Tenant, job.tenant_id)
    if tenant is None:
        raise RelayError("tenant_not_found", "the tenant of this import is gone", 404)
    importer = _importer_class(job.kind)(session, tenant, job, options, rt.now())
    importer.begin()
    report = RowReport()
    layout_seen = False
    batch: list[dict[str, Any]] = []
    processed = 0
    for number, cells in iter_rows(upload.path, upload.kind):
        if not any(cell_text(c) for c in cells):
            continue  # Excel's trailing blank rows are not rows anyone meant
        if not layout_seen:
            layout_seen = True
            importer.layout = importer.detect_layout(cells)
            if importer.layout.header:
                continue
        processed += 1
        item = importer.take(number, cells, report)
        if item is not None:
            batch.append(item)
        if len(batch) >= CHUNK_ROWS:
            importer.write(batch)
            batch = []
        if processed % CHUNK_ROWS == 0:
            _publish(rt, job.id, processed=processed, rejected=report.count, total=job.total)
    if not layout_seen:
        raise invalid_file("the file has no rows")
    if batch:
        importer.write(batch)
    job.total = job.processed = processed
    job.rejected = report.count
    job.accepted = processed - report.count
    job.report = report.as_json(**importer.summary())
    job.status = "done"
    job.finished_at = rt.now()
    importer.finish(report)
    return job


def enqueue_import(rt: Runtime, job: ImportJob, upload: Upload, options: dict[str, Any]) -> None:
    """Hand a committed job to the workers; if Redis refuses, fail the job and say so (503)."""
    _publish(rt, job.id, processed=0, rejected=0, total=job.total)
    try:
        rt.dispatcher.queue.enqueue(
            RUN_JOB,
            job.id,
            str(upload.path),
            upload.kind,
            options,
            job_timeout=3600,
            result_ttl=0,
            failure_ttl=7 * 86400,
        )
    except RedisError as exc:
        upload.path.unlink(missing_ok=True)
        fail_job(rt, job.id, "the job queue is unavailable; upload the file again")
        raise RelayError("queue_unavailable", "the job queue is unavailable; retry", 503) from exc


def fail_job(rt: Runtime, job_id: int, error: str, options: dict[str, Any] | None = None) -> None:
    """Mark a job failed in its own transaction and undo what it created (e.g. its book)."""
    with rt.session() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        tenant = session.get(Tenant, job.tenant_id)
        if tenant is not None:
            cls = _importer_class(job.kind)
            cls(session, tenant, job, options or {}, rt.now()).abort()
        job.status = "failed"
        job.error = error
        job.finished_at = rt.now()
        session.commit()


def run_saved_import(
    rt: Runtime, job_id: int, path: str, file_kind: str, options: dict[str, Any]
) -> str:
    """Import a saved upload (job `relay.jobs.run_import`); safe to run twice (a finished job is
    skipped)."""
    upload = Upload(path=Path(path), filename=options.get("filename") or "", kind=file_kind, size=0)
    try:
        with rt.session() as session:
            job = session.get(ImportJob, job_id)
            if job is None or job.status not in ACTIVE:
                return "skipped"
            try:
                run_import(session, rt, job, upload, options)
                session.commit()
                return "done"
            except RelayError as exc:
                session.rollback()
                fail_job(rt, job_id, exc.message, options)
                return "failed"
            except Exception:
                session.rollback()
                log.exception("import %s failed", job_id)
                fail_job(
                    rt, job_id, "the import failed on the server; the error was logged", options
                )
                raise
    finally:
        upload.path.unlink(missing_ok=True)
        try:
            rt.redis.delete(progress_key(job_id))
        except RedisError:
            pass


def job_view(rt: Runtime, job: ImportJob) -> dict[str, Any]:
    """The job as the API shows it; a running job's counters come live from Redis."""
    counts = {"total": job.total, "processed": job.processed, "rejected": job.rejected}
    if job.status in ACTIVE:
        try:
            live = rt.redis.hgetall(progress_key(job.id))
        except RedisError:
            live = {}
        for key, value in live.items():
            counts[key.decode() if isinstance(key, bytes) else key] = int(value)
    accepted = job.accepted if job.status == "done" else counts["processed"] - counts["rejected"]
    return {
        "id": job.id,
        "kind": job.kind,
        "target_id": job.target_id,
        "status": job.status,
        "total": counts["total"],
        "processed": counts["processed"],
        "accepted": max(accepted, 0),
        "rejected": counts["rejected"],
        "report": job.report,
        "error": job.error,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def start_import(
    session: Session,
    rt: Runtime,
    tenant: Tenant,
    kind: str,
    upload: Upload,
    options: dict[str, Any],
    prepare: Any = None,
) -> tuple[dict[str, Any], Any, bool]:
    """Check the file, create what it imports into (`prepare(session)`) and its job, then
    import: inline under INLINE_MAX_ROWS rows (the caller's transaction, committed here), else
    the transaction commits the job and the workers import. Returns (job view, what `prepare`
    made, whether it finished). The upload is deleted unless a worker took it over."""
    handed_over = False
    try:
        estimate = inspect_upload(upload, kind)
        target = prepare(session) if prepare is not None else None
        job = create_job(session, tenant, kind, estimate, rt.now(), getattr(target, "id", None))
        options = {**options, "filename": upload.filename}
        if runs_inline(estimate):
            run_import(session, rt, job, upload, options)
            session.commit()
            return job_view(rt, job), target, True
        session.commit()
        handed_over = True  # from here on the worker owns (and deletes) the file
        enqueue_import(rt, job, upload, options)
        return job_view(rt, job), target, False
    finally:
        if not handed_over:
            upload.path.unlink(missing_ok=True)


def find_job(session: Session, rt: Runtime, tenant_id: str, job_id: int) -> dict[str, Any]:
    """The tenant's import job as the API shows it, or 404 `import_not_found`."""
    job = session.get(ImportJob, job_id)
    if job is None or job.tenant_id != tenant_id:
        raise RelayError("import_not_found", f"no import {job_id}", 404)
    return job_view(rt, job)
