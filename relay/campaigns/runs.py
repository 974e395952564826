"""Running campaigns: one transaction per planned chunk, progress on the campaign row, the
queue after each commit, and the periodic job that starts recurring runs.

A run's state lives in `campaign.progress` (phase, the run's time, the pacing origin, the last
contact id planned and how many were accepted), committed with each chunk. A launch that dies
half-way therefore resumes where it stopped (`run_due_campaigns` finds it), and a pause or a
cancel between two chunks is seen by the next one. One planner per campaign at a time, through
a Redis lock; a run is claimed by a compare-and-set on `next_run_at`, so it is never planned
twice, however many workers call `run_due_campaigns`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from relay.campaigns.audience import iter_audience_pages, wants_birthdays
from relay.campaigns.campaigns import tenant_zone
from relay.campaigns.pause import hold_planning, repace_paused, save_progress
from relay.campaigns.planner import ChunkResult, plan_chunk, prepare
from relay.campaigns.schedule import MISSED_RUN_GRACE, next_run_after
from relay.campaigns.writer import ChunkWriter
from relay.errors import RelayError
from relay.growth.links import link_base
from relay.messages.lifecycle import LIVE
from relay.messages.messages import iso
from relay.runtime import Runtime
from relay.storage.dml import affected_rows
from relay.storage.models import Campaign, Message, Tenant
from relay.storage.types import new_id

log = logging.getLogger("relay.campaigns")
LOCK_TTL = 300  # seconds; refreshed after every chunk
INLINE_LIMIT = 2000  # books up to this size are planned inside the request; larger ones by a job
PLAN_JOB = "relay.jobs.plan_campaign"
RESUME_AFTER = timedelta(minutes=2)  # a launch idle this long with no planner is resumed


def lock_key(campaign_id: int) -> str:
    """The Redis key held while a campaign is being planned."""
    return f"relay:campaign:{campaign_id}:planning"


def begin_run(progress: dict[str, Any] | None, run_at: datetime, base: datetime) -> dict[str, Any]:
    """Fresh progress for a run at `run_at` whose pacing starts at `base`."""
    previous = dict(progress or {})
    return {
        "phase": "planning",
        "run": iso(run_at),
        "base": iso(base),
        "cursor": 0,
        "accepted": 0,
        "planned": 0,
        "deferred": 0,
        "blocked": {},
        "runs": int(previous.get("runs", 0)) + 1,
        "skipped_runs": int(previous.get("skipped_runs", 0)),
        "started_at": None,
        "finished_at": None,
    }


def launch(rt: Runtime, campaign_id: int, audience: int) -> bool:
    """Plan now in this process (small books) or hand the run to a worker; True if inline."""
    if audience <= INLINE_LIMIT:
        plan_run(rt, campaign_id)
        return True
    rt.dispatcher.queue.enqueue(
        PLAN_JOB, campaign_id, job_timeout=3600, result_ttl=0, failure_ttl=86400
    )
    return False


def plan_run(rt: Runtime, campaign_id: int) -> dict[str, Any] | None:
    """Plan the current run of a running campaign, chunk by chunk; None if someone else is."""
    key, token = lock_key(campaign_id), new_id()
    if not rt.redis.set(key, token, nx=True, ex=LOCK_TTL):
        return None
    try:
        with rt.session() as session, _few_collections():
            return _plan_locked(rt, session, campaign_id, key)
    finally:
        if rt.redis.get(key) == token.encode():
            rt.redis.delete(key)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Planning makes some thirty short-lived objects per recipient, freed as they go; with
    the collector's default threshold that is a collection every 25 recipients, and now and
    then a full one over every object the process has loaded (a tenth of the planning time).
    For the run, what exists before it is frozen out of the collector's sight and a young
    collection waits for 10,000 new objects. The settings are the process's: with runs in
    several threads at once (a web process's threads), the first to begin changes them and the
    last to end puts back what it found, so no run restores another's setting for good."""
    global _RUNS, _SAVED
    with _GC_LOCK:
        _RUNS += 1
        if _RUNS == 1:
            _SAVED = gc.get_threshold()
            gc.freeze()
            if _SAVED[0]:  # 0: automatic collection is off, and stays off
                gc.set_threshold(max(_SAVED[0], 10_000), *_SAVED[1:])
    try:
        yield
    finally:
        with _GC_LOCK:
            _RUNS -= 1
            if _RUNS == 0:
                gc.set_threshold(*_SAVED)
                gc.unfreeze()


_GC_LOCK = threading.Lock()
_RUNS = 0  # planning runs in progress in this process
_SAVED: tuple[int, ...] = gc.get_threshold()


def _plan_locked(
    rt: Runtime, session: Session, campaign_id: int, key: str
) -> dict[str, Any] | None:
    c = session.get(Campaign, campaign_id, populate_existing=True)
    if c is None:
        return None
    progress = dict(c.progress or {})
    if c.status != "running" or (
        progress.get("phase") != "planning" and not progress.get("repace")
    ):
        return progress
    tenant = session.get_one(Tenant, c.tenant_id)
    progress["started_at"] = progress.get("started_at") or iso(rt.now())
    if progress.get("repace"):
        if not repace_paused(rt, session, c, tenant, progress):
            return progress  # paused again meanwhile
        progress.pop("repace")
        save_progress(session, c.id, progress, rt.now())
        session.commit()
        if progress.get("phase") != "planning":
            return progress
    try:
        ctx = prepare(session, c, tenant, progress["run"], link_base(rt.config))
    except RelayError as exc:
        progress.update(phase="failed", error={"code": exc.code, "message": exc.message})
        save_progress(session, c.id, progress, rt.now())
        session.commit()
        return progress
    run_at = datetime.fromisoformat(progress["run"])
    base = datetime.fromisoformat(progress["base"])
    birthday_day = run_at.astimezone(tenant_zone(tenant)).date() if wants_birthdays(c) else None
    pages = iter_audience_pages(
        session, c, after_id=int(progress["cursor"]), birthday_day=birthday_day
    )
    accepted = int(progress["accepted"])
    with ChunkWriter(rt, c.id, key, LOCK_TTL) as writer:
        for page, last in pages:
            result = (
                plan_chunk(session, ctx, page, base, accepted, rt.now()) if page else ChunkResult()
            )
            session.commit()  # ends this thread's read transaction; it wrote nothing
            accepted += result.accepted
            _advance(progress, result, last)
            if not writer.submit(result, progress):
                break
    if not writer.stopped:
        progress.update(phase="planned", finished_at=iso(rt.now()))
        if hold_planning(session, c.id, rt.now()):
            save_progress(session, c.id, progress, rt.now())
            session.commit()
            log.info("campaign planned", extra={"campaign": c.id, "planned": progress["planned"]})
            return progress
        session.rollback()
    # paused, cancelled or paused and resumed meanwhile: what was committed stays; a resume's
    # re-pacing and the rest of the run are planned now, by this planner, which holds the lock
    session.commit()
    c = session.get_one(Campaign, campaign_id, populate_existing=True)
    if c.status == "running" and (c.progress or {}).get("repace"):
        return _plan_locked(rt, session, campaign_id, key)
    return writer.saved or dict(c.progress or {})


def _advance(progress: dict[str, Any], result: ChunkResult, last: int) -> None:
    progress["cursor"] = last
    progress["accepted"] = int(progress["accepted"]) + result.accepted
    progress["planned"] = int(progress["planned"]) + len(result.messages)
    progress["deferred"] = int(progress["deferred"]) + result.deferred
    blocked = dict(progress.get("blocked") or {})
    for reason, n in result.blocked.items():
        blocked[reason] = blocked.get(reason, 0) + n
    progress["blocked"] = blocked


@dataclass
class DueReport:
    """What one `run_due_campaigns` call did."""

    started: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)


def run_due_campaigns(rt: Runtime, limit: int = 50) -> DueReport:
    """Start due recurring runs, resume launches that died half-way, close finished campaigns.

    Called by the worker's sweeper loop; safe to call from every worker at once.
    """
    report = DueReport()
    now = rt.now()
    with rt.session() as session:
        due = session.execute(
            select(Campaign.id, Campaign.next_run_at)
            .where(
                Campaign.status == "running",
                Campaign.next_run_at.is_not(None),
                Campaign.next_run_at <= now,
            )
            .order_by(Campaign.next_run_at)
            .limit(limit)
        ).all()
        for campaign_id, due_at in due:
            # the query keeps only campaigns with a next_run_at
            _claim_run(session, campaign_id, cast("datetime", due_at), now, report)
        running = session.execute(
            select(
                Campaign.id,
                Campaign.progress,
                Campaign.recurrence,
                Campaign.kind,
                Campaign.updated_at,
            ).where(Campaign.status == "running")
        ).all()
    for campaign_id in report.started:
        plan_run(rt, campaign_id)
    for row in running:
        progress = row.progress or {}
        phase = progress.get("phase")
        if (phase == "planning" or progress.get("repace")) and row.id not in report.started:
            # untouched for a while and nobody holds the lock: its planner died (or its job
            # was lost); a launch handed to a worker a moment ago is left to that worker
            idle = row.updated_at is None or row.updated_at < now - RESUME_AFTER
            if idle and not rt.redis.exists(lock_key(row.id)):
                if plan_run(rt, row.id) is not None:
                    report.resumed.append(row.id)
        elif phase == "planned" and row.kind == "campaign" and row.recurrence == "once":
            if _finish_if_done(rt, row.id, now):
                report.finished.append(row.id)
    return report


def _claim_run(
    session: Session, campaign_id: int, due_at: datetime, now: datetime, report: DueReport
) -> None:
    c = session.get_one(Campaign, campaign_id)
    progress = dict(c.progress or {})
    if progress.get("phase") == "planning":
        return  # the previous run is still being planned; this one waits for it
    tenant = session.get_one(Tenant, c.tenant_id)
    nxt = next_run_after(c, tenant_zone(tenant), max(due_at, now))
    skip = now - due_at > MISSED_RUN_GRACE
    if skip:
        progress["skipped_runs"] = int(progress.get("skipped_runs", 0)) + 1
    else:
        progress = begin_run(progress, due_at, max(due_at, now))
    claimed = affected_rows(
        session,
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == "running",
            Campaign.next_run_at == due_at,
        )
        .values(next_run_at=nxt, progress=progress, updated_at=now),
    )
    session.commit()
    if claimed:
        (report.skipped if skip else report.started).append(campaign_id)


def _finish_if_done(rt: Runtime, campaign_id: int, now: datetime) -> bool:
    """Mark a one-off campaign `finished` once none of its messages can still be sent."""
    with rt.session() as session:
        pending = session.scalar(
            select(
                exists().where(
                    Message.campaign_id == campaign_id,
                    Message.status.in_(LIVE),
                )
            )
        )
        if pending:
            return False
        done = affected_rows(
            session,
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == "running")
            .values(status="finished", updated_at=now),
        )
        session.commit()
        return bool(done)
