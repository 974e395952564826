"""Planning a campaign run: every recipient through the policy, written in bulk, paced.

A run is expanded chunk by chunk (~1,000 contacts): the template is rendered per contact in
the Jinja sandbox, the chunk goes through `decide_for` (facts for the whole chunk at once, the
policy per recipient at its planned send time), and message + history rows are written in bulk
by `set_status`. Pacing: the k-th accepted recipient (sent or deferred, not blocked) gets
`not_before = base + floor(k / N) * M minutes`; quiet hours may push one recipient further.
Blocked recipients become `blocked` messages with their reason, so the report shows them.

Growth (docs/architecture.md, 'Growth'): an A/B campaign picks each recipient's template by
`relay.growth.ab.assign` (a test share plans only its side, the winner's run the other side);
http(s) links become short links before the text is decided and priced, so their length is
in the segments; a campaign with a `local_time` (and maybe a `local_until` window and
`best_hour`) hands them to the decision, which releases each recipient at that time, or at
their best hour inside the window, in their own zone(s) and paces per release moment.

This module is pure planning over a session; `campaign_runs` owns the transaction per chunk,
the progress row and the queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from relay.campaigns.audience import Recipient, render_context
from relay.content.templates import TemplateRenderError, render
from relay.decisions.decide_batch import Pace, Planned, decide_for
from relay.decisions.facts import RecipientContext, active_sender_names
from relay.errors import RelayError
from relay.growth.ab import assign, variant_names
from relay.growth.best_hour import best_hours
from relay.growth.links import LinkRewriter, save_links
from relay.intake.flows import latest_templates
from relay.messages.cost import estimate
from relay.messages.lifecycle import MessageStatus, NewMessage, set_status
from relay.policy import LocalWindow, TenantPolicy, parse_wall_time
from relay.storage.models import Tenant
from relay.storage.types import new_ids
from relay.tenancy.settings import tenant_policy, tracking_on
from shared.segments import count_segments


@dataclass
class PlanContext:
    """What stays the same for every recipient of one campaign run."""

    campaign: Any
    tenant: Tenant
    template: SimpleNamespace | Any
    policy: TenantPolicy
    sender: str | None
    channel: str
    fallback: bool
    tariffs: dict[str, Any] | None
    run: str  # the run's nominal time (ISO), recorded on each message's context
    variants: list[Any] = field(default_factory=list)  # templates in variant order (A/B)
    links: LinkRewriter | None = None  # None: links stay as written (tracking off)
    local: LocalWindow | None = None  # a time or window on each recipient's own clock
    best_hour: bool = False  # release at each recipient's best hour where history tells it
    pace: Pace = field(default_factory=lambda: Pace(None, None))
    _segments: dict[str, tuple[str, int]] = field(default_factory=dict)
    prices: dict[tuple[str, int], tuple[Any, str]] = field(default_factory=dict)

    def segments(self, text: str) -> tuple[str | None, int]:
        """(encoding, parts) of a text; campaign texts repeat, so they are memoised."""
        if self.channel != "sms":
            return None, 1
        hit = self._segments.get(text)
        if hit is None:
            if len(self._segments) > 5000:
                self._segments.clear()
            info = count_segments(text)
            hit = self._segments[text] = (info.encoding, info.segments)
        return hit


@dataclass
class ChunkResult:
    """Rows to write for one chunk, with their first status, and what they mean for progress."""

    messages: list[NewMessage] = field(default_factory=list)
    blocked: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    accepted: int = 0
    links: list[dict[str, Any]] = field(default_factory=list)  # short links of the messages


def prepare(
    session: Session, campaign: Any, tenant: Tenant, run: str, link_base: str | None = None
) -> PlanContext:
    """Load the newest template versions, the tenant's policy and the channel plan;
    `link_base` (scheme and host of short links) turns link tracking on where the tenant
    allows it."""
    names = variant_names(campaign.template, campaign.variants)
    found = latest_templates(session, tenant.id, set(names))
    for name in names:
        if found.get(name) is None:
            raise RelayError(
                "template_not_found", f"campaign template {name!r} no longer exists", 422
            )
    tpl = found[campaign.template]
    channels = list(campaign.channels or ["sms"])
    ctx = PlanContext(
        campaign=campaign,
        tenant=tenant,
        template=tpl,
        policy=tenant_policy(tenant, active_sender_names(session, tenant.id)),
        sender=campaign.sender or tpl.sender,
        channel=channels[0],
        fallback=channels[0] == "viber" and "sms" in channels[1:] and bool(tpl.sms_text),
        tariffs=(tenant.settings or {}).get("tariffs"),
        run=run,
        variants=[found[name] for name in names],
        local=local_window(campaign),
        best_hour=bool(campaign.best_hour) and bool(campaign.local_time),
        pace=Pace(campaign.pace_count, campaign.pace_minutes),
    )
    if link_base and tracking_on(tenant):
        ctx.links = LinkRewriter(link_base, tenant.id, campaign.id)
    return ctx


def local_window(campaign: Any) -> LocalWindow | None:
    """The campaign's time or window on each recipient's clock (None: the run's own time)."""
    if not campaign.local_time:
        return None
    until = parse_wall_time(campaign.local_until) if campaign.local_until else None
    return LocalWindow(parse_wall_time(campaign.local_time), until)


def template_for(ctx: PlanContext, recipient: Recipient) -> Any | None:
    """The recipient's template: its A/B variant, or the winner for the rest of the book;
    None when this run leaves the recipient out (the other side of the test share)."""
    if len(ctx.variants) < 2:
        return ctx.template
    c = ctx.campaign
    side = assign(c.id, recipient.phone, len(ctx.variants), c.test_share)
    if c.winner:
        if side.in_test:
            return None
        return next((t for t in ctx.variants if t.name == c.winner), None)
    return ctx.variants[side.variant] if side.in_test else None


def slot_time(base: datetime, k: int, pace_count: int | None, pace_minutes: int | None) -> datetime:
    """When the k-th accepted recipient may go: N per M minutes from `base`."""
    if not pace_count or not pace_minutes:
        return base
    return base + timedelta(minutes=(k // pace_count) * pace_minutes)


def rendered(
    ctx: PlanContext, recipient: Recipient, tpl: Any | None = None
) -> tuple[str, str | None, str | None]:
    """(text, fallback text, render error) for one recipient (`tpl`: its variant)."""
    tpl = tpl or ctx.template
    data = render_context(recipient, ctx.campaign)
    source = (tpl.viber_text or tpl.sms_text) if ctx.channel == "viber" else tpl.sms_text
    try:
        text = render(source or "", data)
        fallback = render(tpl.sms_text, data) if ctx.fallback and tpl.sms_text else None
    except TemplateRenderError as exc:
        return "", None, str(exc)
    if not text:
        return "", None, f"template {tpl.name!r} renders to an empty text"
    return text, fallback, None


def _recipient_context(recipient: Recipient) -> RecipientContext:
    # an address book may carry the customer's zone or region as custom fields
    zone, region = recipient.fields.get("timezone"), recipient.fields.get("region")
    return RecipientContext(
        explicit_timezone=zone if isinstance(zone, str) and zone else None,
        region=region if isinstance(region, str) and region else None,
    )


def plan_chunk(
    session: Session,
    ctx: PlanContext,
    recipients: list[Recipient],
    base: datetime,
    k: int,
    now: datetime,
) -> ChunkResult:
    """Decide every recipient of a chunk; `k` is how many were accepted before it."""
    c = ctx.campaign
    out = ChunkResult()
    rows, planned = [], []
    if ctx.links is not None:
        ctx.links.now = now
    best = (
        best_hours(session, c.tenant_id, (r.phone for r in recipients), now)
        if ctx.best_hour
        else {}
    )
    ids = iter(new_ids(len(recipients)))
    for r in recipients:
        tpl = template_for(ctx, r)
        if tpl is None:
            continue  # kept for the winner (or had the test): not this run's recipient
        text, fallback, error = rendered(ctx, r, tpl)
        rctx = _recipient_context(r)
        mid = next(ids)
        if ctx.links is not None and error is None:
            tokens: dict[str, str] = {}
            text = ctx.links.rewrite(text, mid, tokens)
            fallback = ctx.links.rewrite(fallback, mid, tokens) if fallback else fallback
        row = _row(ctx, r, rctx, text, fallback, now, mid, tpl)
        rows.append(row)
        planned.append(
            Planned(
                phone=r.phone,
                category=c.category,
                channel=ctx.channel,
                text=text,
                sender=ctx.sender,
                timezone=rctx.explicit_timezone,
                region=rctx.region,
                message_id=row["id"],
                unsendable=error,
                local=ctx.local,
                best_hour=best.get(r.phone),
            )
        )
    if ctx.local is not None:  # released per recipient, paced per release moment
        outcomes = decide_for(
            session, ctx.tenant, planned, now, slots=lambda i: base, policy=ctx.policy,
            pace=ctx.pace,
        )  # fmt: skip
    else:
        outcomes = decide_for(
            session,
            ctx.tenant,
            planned,
            now,
            slots=lambda i: slot_time(base, k + i, c.pace_count, c.pace_minutes),
            policy=ctx.policy,
        )
    if ctx.links is not None:
        out.links, ctx.links.rows = ctx.links.rows, []
    for row, o in zip(rows, outcomes, strict=True):
        if o.decision is not None:
            row["text"], row["timezones"] = o.text, list(o.timezones)
        if o.status is MessageStatus.BLOCKED:
            assert o.reason is not None  # a blocked outcome always names its reason
            out.blocked[o.reason] += 1
        else:
            row["not_before"] = o.not_before
            out.accepted += 1
            out.deferred += o.deferred
        _price(ctx, row)
        out.messages.append(NewMessage(row, o.status, o.reason, o.detail))
    return out


def _row(
    ctx: PlanContext,
    r: Recipient,
    rctx: RecipientContext,
    text: str,
    fallback: str | None,
    now: datetime,
    mid: str,
    tpl: Any,
) -> dict[str, Any]:
    c = ctx.campaign
    return {
        "id": mid,
        "tenant_id": c.tenant_id,
        "event_pk": None,
        "flow_id": None,
        "template_id": tpl.id,  # the version (and so the A/B variant) this message used
        "phone": r.phone,
        "channel": ctx.channel,
        "category": c.category,
        "sender": ctx.sender,
        "text": text,
        "viber": tpl.viber if ctx.channel == "viber" else None,
        "fallback_text": fallback,
        "fallback_of": None,
        "urgent": False,
        "not_before": None,
        "cancel_key": None,
        "timezones": None,
        "attempts": 0,
        "context": _context(ctx, r, rctx),
        "created_at": now,
        "updated_at": now,
        "campaign_id": c.id,
    }


@lru_cache(maxsize=1)
def _carrier_prefixes() -> tuple[frozenset[str], int]:
    """The number prefixes phonenumbers' carrier table knows, and the longest one's length."""
    from phonenumbers.carrierdata import CARRIER_DATA

    keys = frozenset(CARRIER_DATA)
    return keys, max(map(len, keys))


def price_key(phone: str) -> str:
    """What an E.164 number's estimated price depends on: the longest carrier-table prefix it
    starts with (numbers sharing it share operator and country), else the number itself."""
    keys, longest = _carrier_prefixes()
    head = phone[: longest + 1]  # all the prefix search reads
    found = _PREFIX_OF_HEAD.get(head, "")
    if found == "":
        found = None
        digits = head[1:]
        for size in range(min(longest, len(digits)), 0, -1):
            if digits[:size] in keys:
                found = "+" + digits[:size]
                break
        if len(_PREFIX_OF_HEAD) < 100_000:  # a book shares a few thousand heads
            _PREFIX_OF_HEAD[head] = found
    return found or phone


_PREFIX_OF_HEAD: dict[str, str | None] = {}


def _context(ctx: PlanContext, r: Recipient, rctx: RecipientContext) -> dict[str, Any]:
    out: dict[str, Any] = {
        "campaign": {"id": ctx.campaign.id, "run": ctx.run},
        "contact": {"id": r.contact_id, "name": r.name},
    }
    if rctx.explicit_timezone or rctx.region:  # what delivery's re-check reads
        out["customer"] = {"timezone": rctx.explicit_timezone, "region": rctx.region}
    return out


def _price(ctx: PlanContext, row: dict[str, Any]) -> None:
    encoding, parts = ctx.segments(row["text"]) if row["text"] else (None, 0)
    row["encoding"], row["segments"] = encoding, parts
    # parsing every number for its operator costs ~40 us; 100,000 recipients share a few
    # hundred operator prefixes, so the estimate is memoised per prefix
    key = (price_key(row["phone"]), parts)
    hit = ctx.prices.get(key)
    if hit is None:
        price = estimate(row["phone"], ctx.channel, max(parts, 1), ctx.tariffs)
        hit = ctx.prices[key] = (price.cost, price.currency)
    row["cost"], row["currency"] = hit


def write_chunk(session: Session, result: ChunkResult, now: datetime) -> None:
    """The chunk's messages and their first history rows, in bulk, in the caller's transaction
    (the accepted ones go on the queue after its commit)."""
    set_status(session, result.messages, now)
    if result.links:
        save_links(session, result.links)
