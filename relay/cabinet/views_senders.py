"""Sender names: the store's names with their state (requested, active, rejected) and a request
for a new one. The rules (SMS: at most 11 Latin letters, digits, space . - _, or a number;
Viber: at most 20 Latin or Cyrillic characters) are checked as you type by lists.js; the
server's check (relay.policy, through the use case) is the truth."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.lists_support import actor, list_form_errors
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.texts import MESSAGES
from relay.compliance.audit import audit
from relay.errors import RelayError
from relay.tenancy.sender_admin import create_sender, sender_view, senders_of

CHANNELS = [("sms", _l("SMS")), ("viber", _l("Viber"))]
STATE_NAMES = {
    "requested": (_l("requested"), "warn"),
    "active": (_l("active"), "ok"),
    "rejected": (_l("rejected"), "danger"),
}
SMS_RULE = _l(
    "SMS: at most 11 Latin letters, digits, space . - _ (or a number of up to 15 digits)."
)
VIBER_RULE = _l("Viber: at most 20 Latin or Cyrillic letters, digits, spaces and punctuation.")
MESSAGES.update(
    {
        "invalid_sender_name": _l("This name does not follow the channel's rules."),
        "sender_exists": _l("This name is already registered for this channel."),
    }
)


def _page(errors: dict[str, str] | None = None, status: int = 200,
          form: dict[str, str] | None = None) -> Any:  # fmt: skip
    return render_template(
        "cabinet/senders.html", active="senders", senders=senders_of(g.db, g.tenant.id),
        channels=CHANNELS, state_names=STATE_NAMES, errors=errors or {}, form=form or {},
        sms_rule=SMS_RULE, viber_rule=VIBER_RULE,
    ), status  # fmt: skip


@bp.get("/senders", endpoint="senders")
@login_required
def senders_page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/senders/new")
@role_required("manager")
def sender_request():  # type: ignore[no-untyped-def]
    form = {"channel": request.form.get("channel", ""), "name": request.form.get("name", "")}
    try:
        if form["channel"] not in ("sms", "viber"):
            raise RelayError("invalid_channel", "unknown channel", 422, {"channel": []})
        if len(form["name"]) > 32:
            raise RelayError("invalid_sender_name", "too long", 422, {"name": []})
        row = create_sender(g.db, g.tenant.id, form["channel"], form["name"], "requested")
    except RelayError as exc:
        g.db.rollback()
        errors = list_form_errors(exc)
        if exc.code == "invalid_sender_name":
            rule = SMS_RULE if form["channel"] == "sms" else VIBER_RULE
            errors = {"name": f"{errors.get('name', errors.get('_form'))} {rule}"}
        return _page(errors=errors, status=exc.status, form=form)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="sender.create",
        target_type="sender_name", target_id=row.id, after=sender_view(row), at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    flash(_("The name is requested. The operator of the relay will check it."), "success")
    return redirect(url_for("cabinet.senders"))
