"""Campaigns as records: validation of what a tenant asks for, create / update / delete, and
the shape shown on the API. Launching and running them is `campaign_control`; planning the
messages is `campaign_planner`.

Validation here is about meaning (the book is the tenant's, the template exists, the sender
is registered, the start time parses in the tenant's zone); the shape of the JSON is checked
by the API's marshmallow schema before it gets here.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.campaigns.audience import filters_problem
from relay.campaigns.schedule import greeting_date_problem, parse_start
from relay.decisions.facts import active_sender_names
from relay.errors import RelayError
from relay.growth.ab import MAX_VARIANTS, MIN_VARIANTS
from relay.intake.flows import latest_templates
from relay.messages.messages import iso
from relay.policy import parse_wall_time, sender_name_problem
from relay.storage.models import AddressBook, Campaign, Tenant
from relay.tenancy.tenant_phones import tenant_phone

# draft → running ⇄ paused → cancelled; a one-off campaign whose messages are all final is
# `finished`. Planning in progress is `running` with progress.phase == "planning".
STATUSES = ("draft", "running", "paused", "cancelled", "finished")
CHANNEL_PLANS = (["sms"], ["viber"], ["viber", "sms"])


def bad(code: str, field: str, message: str, status: int = 422) -> RelayError:
    """A RelayError naming the offending field."""
    return RelayError(code, f"{field}: {message}", status, {field: [message]})


def get_campaign(session: Session, tenant_id: str, campaign_id: int) -> Campaign:
    """The tenant's campaign, or 404 (the same answer for another tenant's id)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.tenant_id != tenant_id:
        raise RelayError("campaign_not_found", f"no campaign {campaign_id}", 404)
    return campaign


def tenant_zone(tenant: Tenant) -> ZoneInfo:
    """The tenant's IANA zone (validated when the tenant was saved)."""
    return ZoneInfo(tenant.timezone)


def _book(session: Session, tenant_id: str, book_id: Any) -> int:
    book = session.get(AddressBook, book_id) if isinstance(book_id, int) else None
    if book is None or book.tenant_id != tenant_id:
        raise bad("book_not_found", "book_id", f"no address book {book_id!r}", 404)
    return book.id


def _apply_audience(session: Session, tenant: Tenant, c: Campaign, data: dict[str, Any]) -> None:
    if "segment" in data and data["segment"] is not None:
        segment = dict(data["segment"])
        problem = filters_problem(segment.get("filters"))
        if problem:
            raise bad("invalid_segment", "segment.filters", problem)
        book_id = segment.pop("book_id", None)
        if data.get("book_id") not in (None, book_id):
            raise bad("invalid_segment", "book_id", "differs from segment.book_id")
        c.book_id = _book(session, tenant.id, book_id)
        c.segment = {
            "filters": segment.get("filters") or {},
            "birthday_today": bool(segment.get("birthday_today")),
        }
    elif "book_id" in data:
        c.book_id = None if data["book_id"] is None else _book(session, tenant.id, data["book_id"])
        if "segment" in data:
            c.segment = None


def _apply_content(session: Session, tenant: Tenant, c: Campaign, data: dict[str, Any]) -> None:
    for key in ("name", "template", "category"):
        if key in data:
            setattr(c, key, data[key])
    if "channels" in data:
        if data["channels"] not in CHANNEL_PLANS:
            raise bad("invalid_channels", "channels", f"one of {CHANNEL_PLANS}")
        c.channels = list(data["channels"])
    tpl = latest_templates(session, tenant.id, {c.template}).get(c.template)
    if tpl is None:
        raise bad("template_not_found", "template", f"no template named {c.template!r}")
    _apply_variants(session, tenant, c, data)
    if "sender" in data:
        c.sender = data["sender"] or None
    sender = c.sender or tpl.sender
    channel = (c.channels or ["sms"])[0]
    if sender is not None:
        problem = sender_name_problem(channel, sender)
        if problem:
            raise bad("invalid_sender", "sender", problem)
    registered = active_sender_names(session, tenant.id)
    if registered and (channel, sender) not in registered:
        names = sorted(n for ch, n in registered if ch == channel)
        raise bad("sender_not_allowed", "sender", f"not registered for {channel}: use {names}")


def _apply_variants(session: Session, tenant: Tenant, c: Campaign, data: dict[str, Any]) -> None:
    """An A/B test: 2–4 distinct templates, `template` among them, and an optional test share
    (docs/architecture.md, 'Growth')."""
    if "variants" in data:
        c.variants = list(data["variants"]) if data["variants"] else None
    if "test_share" in data:
        c.test_share = data["test_share"]
    if c.variants is None:
        if c.test_share is not None:
            raise bad("invalid_variants", "test_share", "a test share needs variants")
        return
    names = c.variants
    if not MIN_VARIANTS <= len(names) <= MAX_VARIANTS or len(set(names)) != len(names):
        raise bad("invalid_variants", "variants", "two to four different template names")
    if c.template not in names:
        raise bad("invalid_variants", "variants", f"must include the template {c.template!r}")
    found = latest_templates(session, tenant.id, set(names))
    missing = sorted(n for n in names if n not in found)
    if missing:
        raise bad("template_not_found", "variants", f"no template named {missing[0]!r}")


def _apply_schedule(tenant: Tenant, c: Campaign, data: dict[str, Any]) -> None:
    if "kind" in data:
        c.kind = data["kind"]
    if "start_at" in data:
        try:
            c.start_at = (
                None
                if data["start_at"] is None
                else parse_start(data["start_at"], tenant_zone(tenant))
            )
        except ValueError as exc:
            raise bad("invalid_time", "start_at", str(exc)) from exc
    if "recurrence" in data:
        c.recurrence = data["recurrence"]
    # a greeting's rhythm follows from its kind: birthdays daily, a date once a year
    if c.kind == "birthday":
        c.recurrence = "daily"
    elif c.kind == "date":
        c.recurrence = "yearly"
    if "greeting_date" in data:
        c.greeting_date = data["greeting_date"]
    if c.kind == "date":
        problem = greeting_date_problem(c.greeting_date)
        if problem:
            raise bad("invalid_greeting_date", "greeting_date", problem)
    if "pace" in data:
        pace = data["pace"] or {}
        c.pace_count, c.pace_minutes = pace.get("count"), pace.get("minutes")
    if "test_phone" in data:
        c.test_phone = normalise_phone(tenant, data["test_phone"], "test_phone")
    _apply_local(c, data)


def _apply_local(c: Campaign, data: dict[str, Any]) -> None:
    """`local_time`, `local_until` (a window's end) and `best_hour`, checked together: a
    window needs its start and must end after it on the same day; the best hour needs the
    time that recipients without history keep."""
    for name in ("local_time", "local_until"):
        if name in data:
            try:
                value = None if data[name] is None else _hhmm(parse_wall_time(data[name]))
            except ValueError as exc:
                raise bad("invalid_time", name, str(exc)) from exc
            setattr(c, name, value)
    if "best_hour" in data:
        c.best_hour = bool(data["best_hour"])
    if c.local_until and not c.local_time:
        raise bad("invalid_time", "local_until", "a window's end needs its start (local_time)")
    if c.local_until and c.local_time and c.local_until <= c.local_time:
        raise bad(
            "invalid_time",
            "local_until",
            f"the window must end after it starts, got {c.local_time}–{c.local_until}",
        )
    if c.best_hour and not c.local_time:
        raise bad(
            "invalid_time",
            "best_hour",
            "the best hour needs local_time for recipients without history",
        )


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def normalise_phone(tenant: Tenant, raw: Any, field: str) -> str | None:
    """A phone from the API in E.164 with the tenant's region; None stays None."""
    return tenant_phone(tenant, raw, field, required=False)


def apply_changes(session: Session, tenant: Tenant, c: Campaign, data: dict[str, Any]) -> None:
    """Validate and apply a create or patch body (already shape-checked) to `c`."""
    _apply_audience(session, tenant, c, data)
    _apply_content(session, tenant, c, data)
    _apply_schedule(tenant, c, data)
    if c.book_id is None:
        raise bad("book_required", "book_id", "a campaign needs book_id or segment.book_id")


def create_campaign(
    session: Session, tenant: Tenant, data: dict[str, Any], now: datetime
) -> Campaign:
    """A new draft campaign (flushed, so it has an id)."""
    exists = session.scalar(
        select(Campaign.id).where(Campaign.tenant_id == tenant.id, Campaign.name == data["name"])
    )
    if exists is not None:
        raise bad("campaign_exists", "name", f"a campaign named {data['name']!r} exists", 409)
    c = Campaign(
        tenant_id=tenant.id,
        kind="campaign",
        category="marketing",
        channels=["sms"],
        recurrence="once",
        status="draft",
        created_at=now,
        updated_at=now,
    )
    apply_changes(session, tenant, c, data)
    session.add(c)
    session.flush()
    return c


def update_campaign(
    session: Session, tenant: Tenant, c: Campaign, data: dict[str, Any], now: datetime
) -> None:
    """Change a draft; a launched campaign is paused, resumed or cancelled instead."""
    require_status(c, ("draft",), "only a draft campaign can be changed")
    if "name" in data and data["name"] != c.name:
        clash = session.scalar(
            select(Campaign.id).where(
                Campaign.tenant_id == tenant.id, Campaign.name == data["name"]
            )
        )
        if clash is not None:
            raise bad("campaign_exists", "name", f"a campaign named {data['name']!r} exists", 409)
    apply_changes(session, tenant, c, data)
    c.updated_at = now


def require_status(c: Campaign, allowed: tuple[str, ...], message: str) -> None:
    """409 `invalid_campaign_state` unless the campaign is in one of `allowed`."""
    if c.status not in allowed:
        raise RelayError(
            "invalid_campaign_state",
            f"{message} (campaign {c.id} is {c.status})",
            409,
            {"status": [f"is {c.status}; needs one of {list(allowed)}"]},
        )


def campaign_dict(c: Campaign, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """The API form; times are ISO 8601 in the tenant's zone (with its offset)."""

    def local(value: datetime | None) -> str | None:
        return iso(value.astimezone(zone) if (value and zone) else value)

    segment = dict(c.segment or {})
    if c.segment is not None:
        segment["book_id"] = c.book_id
    return {
        "id": c.id,
        "name": c.name,
        "kind": c.kind,
        "book_id": c.book_id,
        "segment": segment or None,
        "template": c.template,
        "category": c.category,
        "sender": c.sender,
        "channels": c.channels,
        "start_at": local(c.start_at),
        "recurrence": c.recurrence,
        "greeting_date": c.greeting_date,
        "pace": ({"count": c.pace_count, "minutes": c.pace_minutes} if c.pace_count else None),
        "status": c.status,
        "test_phone": c.test_phone,
        "variants": c.variants,
        "test_share": c.test_share,
        "winner": c.winner,
        "local_time": c.local_time,
        "local_until": c.local_until,
        "best_hour": bool(c.best_hour),
        "next_run_at": local(c.next_run_at),
        "progress": c.progress,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def audit_view(c: Campaign) -> dict[str, Any]:
    """What the audit log keeps of a campaign (no progress counters)."""
    out = campaign_dict(c)
    out.pop("progress", None)
    return out
