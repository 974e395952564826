"""Greetings: the tenant's recurring greeting campaigns (birthdays every day, New Year,
8 March, 23 February, any date every year), made through the same use case as
POST /v1/campaigns; each one is then checked, tested on yourself and started on its mailing
page, like any mailing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.views_mailings import (
    actor,
    bad_field,
    campaign_data,
    choices,
    content_template,
    form_errors_for,
    id_of,
)
from relay.campaigns.campaigns import audit_view, create_campaign, tenant_zone
from relay.campaigns.listing import campaign_page
from relay.campaigns.progress import progress
from relay.compliance.audit import audit
from relay.errors import RelayError

OCCASIONS = {
    "birthday": _l("Birthday (every day, to whoever has a birthday)"),
    "new_year": _l("New Year (1 January)"),
    "march8": _l("8 March"),
    "feb23": _l("23 February"),
    "custom": _l("Another date every year"),
}
DATES = {"new_year": "01-01", "march8": "03-08", "feb23": "02-23"}


def _defaults() -> dict[str, str]:
    return {
        "occasion": "birthday", "channel": "sms", "content": "text", "category": "marketing",
        "time": "11:00", "viber_type": "text", "test_phone": g.user.phone or "",
    }  # fmt: skip


def _page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> Any:
    rows, _nxt = campaign_page(g.db, g.tenant.id, None, 100, kinds=("birthday", "date"))
    now = rt().now()
    return (
        render_template(
            "cabinet/greetings.html",
            active="greetings",
            items=[(c, progress(g.db, g.tenant, c, now)) for c in rows],
            occasions=list(OCCASIONS.items()),
            form=form,
            errors=errors or {},
            **choices(),
        ),
        status,
    )


@bp.get("/greetings", endpoint="greetings")
@login_required
def greetings():  # type: ignore[no-untyped-def]
    return _page(_defaults())


def _start_at(raw: str) -> str:
    """The first run's local time: today at `raw` (HH:MM), or tomorrow if that has passed."""
    try:
        hh, mm = (int(x) for x in raw.strip().split(":")[:2])
        zone = tenant_zone(g.tenant)
        local_now = rt().now().astimezone(zone)
        at = local_now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    except (ValueError, TypeError) as exc:
        raise bad_field("invalid_time", "time", "HH:MM") from exc
    if at <= local_now:
        at += timedelta(days=1)
    return datetime.strftime(at.replace(tzinfo=None), "%Y-%m-%dT%H:%M")


@bp.post("/greetings")
@role_required("manager")
def greeting_create():  # type: ignore[no-untyped-def]
    form = {**_defaults(), **{k: v for k, v in request.form.to_dict().items() if k != "csrf_token"}}
    now = rt().now()
    occasion = form.get("occasion") or "birthday"
    try:
        if occasion not in OCCASIONS:
            raise bad_field("validation_error", "occasion", "choose one from the list")
        if not (form.get("name") or "").strip():
            form["name"] = str(OCCASIONS[occasion]).split(" (")[0]
        data = campaign_data({**form, "recurrence": "once"})
        data.pop("recurrence")
        data["start_at"] = _start_at(form.get("time") or "")
        book_id = id_of(form.get("book_id"))
        if book_id is None:
            raise bad_field("book_required", "book_id", "choose an address book")
        if occasion == "birthday":
            data["kind"] = "birthday"
            data["segment"] = {"book_id": book_id, "birthday_today": True}
        else:
            data["kind"] = "date"
            data["book_id"] = book_id
            data["greeting_date"] = DATES.get(occasion) or (form.get("greeting_date") or "").strip()
        data["template"] = content_template(form, form.get("channel") or "sms")
        c = create_campaign(g.db, g.tenant, data, now)
    except RelayError as exc:
        g.db.rollback()
        errors = form_errors_for(exc)
        if "start_at" in errors:
            errors["time"] = errors.pop("start_at")
        return _page(form, errors, exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="campaign.create",
        target_type="campaign", target_id=c.id, after=audit_view(c), at=now,
    )  # fmt: skip
    g.db.commit()
    flash(_("The greeting is saved. Send a test to yourself, then start it."), "success")
    return redirect(url_for("cabinet.mailing", campaign_id=c.id))
