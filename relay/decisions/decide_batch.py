"""One decision path: a batch of one tenant's planned messages through the pure policy.

`decide_for` is the only caller of `relay.policy.decide`
(docs/architecture.md, 'One decision path'). Intake, delivery's re-check at send time,
campaign planning, a campaign's resume, its test send and `POST /v1/policy/explain` all hand
it their messages and get back, for each, the status it takes (queued, scheduled or blocked),
the deciding reason, `not_before`, the text to send (with the opt-out footer) and the
recipient's time zones. The tenant's policy is loaded once, the facts with one query per table
for the whole batch (`load_facts`), and the frequency cap counts the batch's own marketing
messages as they are decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from relay.decisions.facts import RecipientContext, active_sender_names, load_facts
from relay.messages.lifecycle import MessageStatus
from relay.policy import (
    BLOCK,
    CONTENT_RULE,
    DEFER,
    MARKETING,
    Decision,
    LocalWindow,
    PolicyMessage,
    TenantPolicy,
    decide,
    first_slot,
    paced,
    resolve_timezones,
)
from relay.storage.models import Tenant
from relay.tenancy.settings import tenant_policy


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to decide: what the policy reads, and when it would go."""

    phone: str
    category: str
    channel: str
    text: str
    sender: str | None = None
    urgent: bool = False
    confirmation: bool = False  # the one reply to a STOP/START/HELP keyword
    at: datetime | None = None  # when it would go; None: the batch's time or its paced slot
    timezone: str | None = None  # the recipient's zone as the CRM or the book gives it
    region: str | None = None
    message_id: str | None = None  # its row, left out of its own frequency count
    unsendable: str | None = None  # why it is blocked `content_rule` before any rule runs
    local: LocalWindow | None = None  # go at this time or in this window, on the recipient's clock
    best_hour: int | None = None  # the UTC hour this recipient most often clicks or reads


@dataclass
class Pace:
    """N messages per M minutes; with local times, counted per release moment (the counts
    carry over from one batch of a campaign run to the next)."""

    count: int | None
    minutes: int | None
    released: Counter[datetime] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What becomes of one planned message."""

    status: MessageStatus  # queued (may go at not_before), scheduled (later) or blocked
    reason: str | None  # the deciding reason's code; None when it may go
    detail: str | None
    not_before: datetime | None  # when it may go; None when blocked
    at: datetime  # the time it was decided for
    text: str  # the text to send, with the tenant's opt-out footer when one is due
    timezones: tuple[str, ...]
    decision: Decision | None  # None when it was unsendable before the policy ran

    @property
    def deferred(self) -> bool:
        """True when the policy moved it later (quiet hours)."""
        return self.decision is not None and self.decision.action == DEFER


def decide_for(
    session: Session,
    tenant: Tenant,
    planned: Sequence[Planned],
    now: datetime,
    *,
    slots: Callable[[int], datetime] | None = None,
    policy: TenantPolicy | None = None,
    pace: Pace | None = None,
) -> list[Outcome]:
    """Decide a batch of one tenant's planned messages at `now`, one Outcome each, in order.

    A message is decided at its own `at`, else at `slots(k)` — the k-th slot of a paced batch,
    k counting the messages of the batch not blocked so far — else at `now`. Sent at `at`, it
    is `queued` when that is not after `now` and `scheduled` otherwise; deferred by quiet
    hours, `scheduled` at the first allowed minute. `policy` spares the query when the caller
    holds the tenant's policy already (intake's cache, a campaign's plan).

    A message with a `local` time or window is released then in its recipient's zone(s) (the
    zones quiet hours use, strict for ambiguous numbers: `relay.policy.first_slot`) at or
    after its slot's time, at its `best_hour` where that falls in the window; `pace` then
    spaces the messages sharing one release moment, those past a window's end on the next
    local days' windows (`relay.policy.paced`).
    """
    if not planned:
        return []
    if policy is None:
        policy = tenant_policy(tenant, active_sender_names(session, tenant.id))
    facts = load_facts(
        session,
        tenant.id,
        {p.phone for p in planned},
        now,
        window_days=policy.frequency_window.days,
        marketing=any(p.category == MARKETING for p in planned),
    )
    out: list[Outcome] = []
    accepted = 0
    pace = pace or Pace(None, None)
    released = pace.released  # accepted messages per local release moment
    for i, p in enumerate(planned):
        at = p.at if p.at is not None else (slots(accepted) if slots else now)
        rctx = RecipientContext(p.timezone, p.region)
        release = None
        if p.local is not None and p.unsendable is None:
            zones, _ = resolve_timezones(p.phone, facts.for_phone(p.phone, rctx), policy)
            slot = first_slot(zones, at, p.local, p.best_hour)
            release = slot.start
            k = released[release]
            at = paced(zones, slot, p.local, k, pace.count, pace.minutes, p.best_hour)
        if p.unsendable is not None:
            out.append(
                Outcome(
                    MessageStatus.BLOCKED, CONTENT_RULE, p.unsendable, None, at, p.text, (), None
                )
            )
            continue
        decision = decide(
            PolicyMessage(
                phone=p.phone,
                category=p.category,
                channel=p.channel,
                text=p.text,
                sender=p.sender,
                urgent=p.urgent,
                confirmation=p.confirmation,
            ),
            facts.for_phone(p.phone, rctx, p.message_id),
            policy,
            at,
        )
        if decision.action == BLOCK:
            first = decision.reasons[0]
            out.append(
                Outcome(
                    MessageStatus.BLOCKED,
                    first.code,
                    first.detail,
                    None,
                    at,
                    decision.text,
                    decision.timezones,
                    decision,
                )  # fmt: skip
            )
            continue
        accepted += 1
        if release is not None:
            released[release] += 1
        if p.category == MARKETING:
            # the frequency cap counts what this batch plans, as it plans it
            key = p.message_id or f"planned:{i}"
            counted = facts.marketing[p.phone]
            if all(mid != key for mid, _ in counted):
                counted.append((key, at))
        if decision.action == DEFER:
            first = decision.reasons[0]
            reason, detail, not_before = first.code, first.detail, decision.not_before
        else:
            reason, detail, not_before = None, None, at
        later = not_before is not None and not_before > now
        out.append(
            Outcome(
                MessageStatus.SCHEDULED if later else MessageStatus.QUEUED,
                reason,
                detail,
                not_before,
                at,
                decision.text,
                decision.timezones,
                decision,
            )  # fmt: skip
        )
    return out
