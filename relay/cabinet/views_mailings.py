"""Mailings: the new-mailing wizard, "My mailings" (list, a mailing with its live progress,
dry run, test, start / pause / resume / cancel, edit and delete before the start, the
per-number report) and the JSON the small script asks for live counts.

Every change goes through the use cases of relay/campaigns, relay/content and relay/contacts
that POST /v1/campaigns and its siblings call; nothing is half-written: one transaction per
form, rolled back on any refusal.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from flask import (
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.mailing_texts import mailing_error, mailing_errors, reason_text
from relay.cabinet.security import login_required, role_required, rt
from relay.campaigns import control as campaign_control
from relay.campaigns.campaigns import (
    audit_view,
    create_campaign,
    get_campaign,
    require_status,
    tenant_zone,
    update_campaign,
)
from relay.campaigns.dry_run import dry_run
from relay.campaigns.listing import campaign_page, delete_draft, template_names
from relay.campaigns.progress import progress
from relay.compliance.audit import audit
from relay.contacts.addressbooks import add_contact, create_book, list_books
from relay.contacts.imports import (
    create_job,
    inspect_upload,
    run_import,
    runs_inline,
    store_upload,
)
from relay.content import template_admin
from relay.content.preview import preview_message
from relay.decisions.facts import active_sender_names
from relay.errors import RelayError
from relay.reporting.message_log import LogFilter
from relay.reporting.report_files import XLSX_TYPE, csv_chunks, file_chunks, xlsx_file
from relay.tenancy.tenant_phones import tenant_phone

CHANNELS = {"sms": ["sms"], "viber": ["viber"], "viber_sms": ["viber", "sms"]}
CHANNEL_NAMES = {"sms": _l("SMS"), "viber": _l("Viber"), "viber_sms": _l("Viber, then SMS")}
VIBER_TYPES = {
    "text": _l("Text"),
    "image": _l("Image"),
    "button": _l("Text and button"),
    "button_image": _l("Text, button and image"),
}
RECURRENCE_NAMES = {
    "once": _l("Once"),
    "daily": _l("Every day"),
    "monthly": _l("Every month"),
    "yearly": _l("Every year"),
}
CATEGORY_NAMES = {"marketing": _l("Advertising"), "transactional": _l("Service message")}
FORM_FIELDS = (
    "name", "recipients", "book_id", "file", "numbers", "channel", "viber_type", "viber_image",
    "button_caption", "button_url", "sender", "content", "template", "text", "category",
    "recurrence", "start_at", "pace_count", "pace_minutes", "test_phone", "greeting_date",
    "occasion", "time", "local_time", "local_until", "best_hour",
)  # fmt: skip
# what the use cases call a field → the form's own name for it
FIELD_ALIASES = {
    "channels": "channel", "pace": "pace_count", "sms_text": "text", "viber_text": "text",
    "phone": "test_phone", "segment": "book_id", "viber": "viber_image",
}  # fmt: skip
MAX_NUMBERS = 1000  # typed numbers; more go through a file
ID_RE = re.compile(r"[0-9]{1,12}")


def actor() -> str:
    return f"user:{g.user.id}"


def form_errors_for(exc: RelayError) -> dict[str, str]:
    """The error on the form's own field name."""
    aliased = RelayError(
        exc.code,
        exc.message,
        exc.status,
        {FIELD_ALIASES.get(str(k).split(".")[0], str(k)): v for k, v in (exc.fields or {}).items()},
    )
    return mailing_errors(aliased, FORM_FIELDS)


def bad_field(code: str, field: str, message: str, status: int = 422) -> RelayError:
    return RelayError(code, f"{field}: {message}", status, {field: [message]})


def money(cost: dict[str, str] | None) -> str:
    if not cost:
        return "0"
    return ", ".join(
        f"{format_decimal(Decimal(v), format='#,##0.00')} {cur}" for cur, v in sorted(cost.items())
    )


def choices() -> dict[str, Any]:
    """What the mailing forms offer: books, templates, sender names, channels, rhythms."""
    books, _next = list_books(g.db, g.tenant.id, 200)
    senders = sorted(active_sender_names(g.db, g.tenant.id))
    return {
        "books": [(str(b.id), b.name) for b in books],
        "templates": [(n, n) for n in template_names(g.db, g.tenant.id)],
        "senders": [("", _("The template's own or the default"))]
        + [(n, f"{n} ({ch})") for ch, n in senders],
        "channels": list(CHANNEL_NAMES.items()),
        "viber_types": list(VIBER_TYPES.items()),
        "recurrences": list(RECURRENCE_NAMES.items()),
        "categories": list(CATEGORY_NAMES.items()),
    }


def id_of(raw: Any) -> int | None:
    """An id typed in a form or URL: 1 to 12 ASCII digits, else None."""
    text = str(raw or "").strip()
    return int(text) if ID_RE.fullmatch(text) else None


def _int(form: dict[str, str], name: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    value = id_of(raw)
    if value is None:
        raise bad_field("invalid_pace", name, "a whole number")
    return value


def pace_of(form: dict[str, str]) -> dict[str, int] | None:
    count, minutes = _int(form, "pace_count"), _int(form, "pace_minutes")
    if count is None and minutes is None:
        return None
    if count is None or minutes is None or not (1 <= count <= 100_000 and 1 <= minutes <= 10080):
        raise bad_field("invalid_pace", "pace_count", "1..100000 per 1..10080 minutes")
    return {"count": count, "minutes": minutes}


def viber_spec(form: dict[str, str]) -> dict[str, Any] | None:
    """The Viber block of a free-text mailing: image and/or button, per the chosen type."""
    kind = form.get("viber_type") or "text"
    if kind not in VIBER_TYPES:
        raise bad_field("invalid_viber", "viber_type", "choose a type from the list")
    out: dict[str, Any] = {}
    if kind in ("image", "button_image"):
        image = (form.get("viber_image") or "").strip()
        if not image.startswith("https://"):
            raise bad_field("invalid_viber", "viber_image", "the image's https:// address")
        out["image"] = image
    if kind in ("button", "button_image"):
        caption = (form.get("button_caption") or "").strip()
        url = (form.get("button_url") or "").strip()
        if not caption or len(caption) > 30:
            raise bad_field("invalid_viber", "button_caption", "a caption of 1 to 30 characters")
        if not url.startswith(("https://", "http://")):
            raise bad_field("invalid_viber", "button_url", "the button's https:// address")
        out["button"] = {"caption": caption, "url": url}
    return out or None


# a free-text mailing's text is kept as a template of its own, named with this prefix: editing
# the mailing edits that text (a new version), never a template other mailings or flows use
OWN_TEMPLATE = "mailing-"


def own_text(c: Any) -> str | None:
    """The free text of a mailing written in the wizard, or None for a chosen template (or a
    wizard's template another mailing or flow has since chosen too: editing it would change
    what they send)."""
    if not (c.template or "").startswith(OWN_TEMPLATE):
        return None
    if len(template_admin.template_users(g.db, g.tenant.id, c.template)) != 1:
        return None
    try:
        tpl = template_admin.latest(g.db, g.tenant.id, c.template)
    except RelayError:
        return None
    return str(tpl.sms_text or "")


def save_own_text(c: Any, text: str) -> None:
    """A new version of the mailing's own template with the edited text (checked as on save)."""
    text = text.strip()
    if not text:
        raise bad_field("text_required", "text", "write the text")
    tpl = template_admin.latest(g.db, g.tenant.id, c.template)
    if text == (tpl.sms_text or ""):
        return
    spec = {k: getattr(tpl, k) for k in template_admin.CONTENT}
    spec["sms_text"] = text
    if tpl.viber_text:
        spec["viber_text"] = text
    now = rt().now()
    saved, previous, _est = template_admin.save(
        g.db, g.tenant, c.template, spec, create=False, actor=actor(), now=now
    )
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="template.update",
        target_type="template", target_id=saved.id,
        before=template_admin.template_view(previous) if previous else None,
        after=template_admin.template_view(saved), at=now,
    )  # fmt: skip


def content_template(form: dict[str, str], channel: str) -> str:
    """The template the mailing sends: the chosen one, or a new one made of the free text."""
    if form.get("content") == "template":
        name = (form.get("template") or "").strip()
        if not name:
            raise bad_field("text_required", "template", "choose a template")
        return name
    text = (form.get("text") or "").strip()
    if not text:
        raise bad_field("text_required", "text", "write the text")
    viber = viber_spec(form) if channel != "sms" else None
    spec: dict[str, Any] = {"category": form.get("category") or "marketing", "sms_text": text}
    if channel != "sms":
        spec["viber_text"] = text
        spec["viber"] = viber
    name = f"{OWN_TEMPLATE}{secrets.token_hex(5)}"
    tpl, _prev, _est = template_admin.save(g.db, g.tenant, name, spec, create=True)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="template.create",
        target_type="template", target_id=tpl.id, after=template_admin.template_view(tpl),
        at=rt().now(),
    )  # fmt: skip
    return name


def numbers_book(form: dict[str, str], name: str) -> int:
    """A new address book of the typed numbers (one per line, or separated by commas)."""
    raw = (form.get("numbers") or "").replace(",", "\n").replace(";", "\n")
    lines = [x.strip() for x in raw.splitlines() if x.strip()]
    if not lines:
        raise bad_field("book_required", "numbers", "write at least one number")
    if len(lines) > MAX_NUMBERS:
        raise bad_field("invalid_numbers", "numbers", f"at most {MAX_NUMBERS}; use a file")
    phones, wrong = [], []
    for line in lines:
        try:
            phone = tenant_phone(g.tenant, line, "numbers")
        except RelayError:
            wrong.append(line)
            continue
        if phone not in phones:
            phones.append(phone)
    if wrong:
        raise bad_field("invalid_numbers", "numbers", ", ".join(wrong[:5]))
    now = rt().now()
    book = create_book(g.db, g.tenant, name, actor(), now)
    for phone in phones:
        add_contact(g.db, book, {"phone": phone}, actor(), now)
    return book.id


def file_book(name: str) -> int:
    """A new address book imported from the uploaded file (the API's import, inline)."""
    upload_in = request.files.get("file")
    if upload_in is None or not upload_in.filename:
        raise bad_field("book_required", "file", "choose a file")
    upload = store_upload(rt(), upload_in.stream, upload_in.filename)
    try:
        estimate = inspect_upload(upload, "address_book")
        if not runs_inline(estimate):
            raise bad_field("file_too_large", "file", "import it in Address books first", 413)
        now = rt().now()
        book = create_book(g.db, g.tenant, name, actor(), now, status="importing")
        job = create_job(g.db, g.tenant, "address_book", estimate, now, book.id)
        run_import(g.db, rt(), job, upload, {"actor": actor(), "filename": upload.filename})
        return book.id
    finally:
        upload.path.unlink(missing_ok=True)


def recipients_book(form: dict[str, str], name: str) -> int | None:
    kind = form.get("recipients") or "book"
    book_name = f"{name} · {rt().now().astimezone(tenant_zone(g.tenant)):%Y-%m-%d %H:%M}"
    if kind == "numbers":
        return numbers_book(form, book_name)
    if kind == "file":
        return file_book(book_name)
    book_id = id_of(form.get("book_id"))
    if book_id is None:
        raise bad_field("book_required", "book_id", "choose an address book")
    return book_id


def campaign_data(form: dict[str, str], *, with_content: bool = True) -> dict[str, Any]:
    """The use case's body from the form (shape checked here, as the API's schema does)."""
    name = (form.get("name") or "").strip()
    if not 1 <= len(name) <= 200:
        raise bad_field("name_required", "name", "1 to 200 characters")
    channel = form.get("channel") or "sms"
    if channel not in CHANNELS:
        raise bad_field("invalid_channels", "channel", "sms, viber or viber_sms")
    category = form.get("category") or "marketing"
    if category not in CATEGORY_NAMES:
        raise bad_field("validation_error", "category", "marketing or transactional")
    recurrence = form.get("recurrence") or "once"
    if recurrence not in RECURRENCE_NAMES:
        raise bad_field("validation_error", "recurrence", "once, daily, monthly or yearly")
    data: dict[str, Any] = {
        "name": name,
        "channels": CHANNELS[channel],
        "category": category,
        "sender": (form.get("sender") or "").strip() or None,
        "start_at": (form.get("start_at") or "").strip() or None,
        "recurrence": recurrence,
        "pace": pace_of(form),
        "test_phone": (form.get("test_phone") or "").strip() or None,
        # HH:MM from the browser's time inputs; the use case checks them and the window
        "local_time": (form.get("local_time") or "").strip() or None,
        "local_until": (form.get("local_until") or "").strip() or None,
        "best_hour": form.get("best_hour") == "1",
    }
    return data


def wizard_defaults() -> dict[str, str]:
    return {
        "channel": "sms", "viber_type": "text", "recipients": "book", "content": "text",
        "category": "marketing", "recurrence": "once", "test_phone": g.user.phone or "",
    }  # fmt: skip


def preview_of(form: dict[str, str]) -> dict[str, Any] | None:
    """Segments, encoding and the cost of one message for the text or template in the form."""
    channel = CHANNELS.get(form.get("channel") or "sms", ["sms"])[0]
    body: dict[str, Any] = {"channel": channel, "data": dict(template_admin.SAMPLE_DATA)}
    if form.get("content") == "template" and form.get("template"):
        body["template"] = form["template"]
    elif (form.get("text") or "").strip():
        body["text"] = form["text"]
    else:
        return None
    return preview_message(g.db, g.tenant, body)


def wizard_page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200,
                preview: dict[str, Any] | None = None) -> Any:  # fmt: skip
    return (
        render_template(
            "cabinet/mailing_new.html",
            active="mailing_new",
            form=form,
            errors=errors or {},
            preview=preview,
            **choices(),
        ),
        status,
    )


@bp.get("/mailings/new", endpoint="mailing_new")
@login_required  # a viewer sees what a mailing needs; sending it is a manager's
def mailing_new():  # type: ignore[no-untyped-def]
    form = wizard_defaults()
    if id_of(request.args.get("book_id")) is not None:
        form["book_id"] = request.args["book_id"]
    return wizard_page(form)


@bp.post("/mailings/new")
@role_required("manager")
def mailing_create():  # type: ignore[no-untyped-def]
    form = {**wizard_defaults(), **request.form.to_dict()}
    form.pop("csrf_token", None)
    if request.form.get("action") == "preview":
        try:
            return wizard_page(form, preview=preview_of(form))
        except RelayError as exc:
            g.db.rollback()
            return wizard_page(form, form_errors_for(exc), exc.status)
    now = rt().now()
    try:
        data = campaign_data(form)
        data["template"] = content_template(form, form.get("channel") or "sms")
        data["book_id"] = recipients_book(form, data["name"])
        c = create_campaign(g.db, g.tenant, data, now)
    except RelayError as exc:
        g.db.rollback()
        return wizard_page(form, form_errors_for(exc), exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="campaign.create",
        target_type="campaign", target_id=c.id, after=audit_view(c), at=now,
    )  # fmt: skip
    g.db.commit()
    flash(_("The mailing is saved as a draft. Check it with a dry run, then start it."), "success")
    return redirect(url_for("cabinet.mailing_dry_run", campaign_id=c.id))


@bp.post("/mailings/preview.json")
@login_required
def mailing_preview_json():  # type: ignore[no-untyped-def]
    """Live counts for the script: segments, encoding, characters and one message's cost."""
    form = request.form.to_dict()
    try:
        out = preview_of(form)
    except RelayError as exc:
        g.db.rollback()
        return jsonify({"error": mailing_error(exc)}), exc.status
    if out is None:
        return jsonify({"empty": True})
    return jsonify(
        {
            "segments": out["segments"],
            "characters": out["characters"],
            "encoding": out["encoding"],
            "cost": money({out["currency"]: out["cost"]}),
            "summary": _(
                "%(chars)s characters, %(encoding)s, %(segments)s SMS; about %(cost)s each",
                chars=out["characters"],
                encoding=out["encoding"],
                segments=out["segments"],
                cost=money({out["currency"]: out["cost"]}),
            ),  # fmt: skip
        }
    )


# ---- My mailings ------------------------------------------------------------------------------


@bp.get("/mailings", endpoint="mailings")
@login_required
def mailings():  # type: ignore[no-untyped-def]
    cursor = request.args.get("cursor", "")
    rows, nxt = campaign_page(g.db, g.tenant.id, id_of(cursor), 20)
    now = rt().now()
    items = [(c, progress(g.db, g.tenant, c, now)) for c in rows]
    return render_template(
        "cabinet/mailings.html",
        active="mailings",
        items=items,
        next_url=url_for("cabinet.mailings", cursor=nxt) if nxt else None,
        prev_url=url_for("cabinet.mailings") if cursor else None,
    )


def detail_page(c: Any, *, dry: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                status: int = 200, test: dict[str, Any] | None = None) -> Any:  # fmt: skip
    from relay.cabinet.views_results import percent, results_of

    return (
        render_template(
            "cabinet/mailing.html",
            active="mailings",
            c=c,
            p=progress(g.db, g.tenant, c, rt().now()),
            dry=dry,
            test=test,
            errors=errors or {},
            money=money,
            reason_text=reason_text,
            channel_name=CHANNEL_NAMES.get(
                "viber_sms" if c.channels == ["viber", "sms"] else (c.channels or ["sms"])[0]
            ),
            recurrence_names=RECURRENCE_NAMES,
            category_names=CATEGORY_NAMES,
            default_phone=c.test_phone or g.user.phone or "",
            r=results_of(c),
            percent=percent,
        ),
        status,
    )


@bp.get("/mailings/<int:campaign_id>")
@login_required
def mailing(campaign_id: int):  # type: ignore[no-untyped-def]
    return detail_page(get_campaign(g.db, g.tenant.id, campaign_id))


@bp.get("/mailings/<int:campaign_id>/dry-run")
@login_required
def mailing_dry_run(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    try:
        result = dry_run(g.db, g.tenant, c, rt().now())
    except RelayError as exc:
        g.db.rollback()
        return detail_page(c, errors={"_form": mailing_error(exc)}, status=exc.status)
    g.db.rollback()  # nothing was written; nothing is kept
    return detail_page(c, dry=result)


@bp.get("/mailings/<int:campaign_id>/progress.json")
@login_required
def mailing_progress_json(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    p = progress(g.db, g.tenant, c, rt().now())
    p["status_text"] = str(
        {"draft": _("draft"), "running": _("sending"), "paused": _("paused"),
         "finished": _("finished"), "cancelled": _("cancelled")}.get(c.status, c.status)
    )  # fmt: skip
    p["percent"] = round(100 * p["sent"] / p["planned"]) if p["planned"] else 0
    return jsonify(p)


@bp.post("/mailings/<int:campaign_id>/test")
@role_required("manager")
def mailing_test(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    body = {"phone": (request.form.get("phone") or "").strip() or g.user.phone}
    try:
        out = campaign_control.send_test(g.db, g.tenant, c, body, actor(), rt().now())
    except RelayError as exc:
        g.db.rollback()
        return detail_page(c, errors=form_errors_for(exc), status=exc.status)
    g.db.commit()  # the session's outbox queues the test message
    return detail_page(c, test=out)


def _control(campaign_id: int, action: str) -> Any:
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    now, runtime = rt().now(), rt()
    try:
        if action == "start":
            campaign_control.start(runtime, g.db, g.tenant, c, actor(), now)
        elif action == "resume":
            campaign_control.resume(runtime, g.db, g.tenant, c, actor(), now)
        elif action == "pause":
            campaign_control.pause(g.db, g.tenant, c, actor(), now)
        else:
            campaign_control.cancel(g.db, g.tenant, c, actor(), now)
    except RelayError as exc:
        g.db.rollback()
        c = get_campaign(g.db, g.tenant.id, campaign_id)
        return detail_page(c, errors={"_form": control_error(exc)}, status=exc.status)
    messages = {
        "start": _("The mailing is started."),
        "resume": _("The mailing is resumed."),
        "pause": _("The mailing is paused."),
        "cancel": _("The mailing is cancelled."),
    }
    flash(messages[action], "success")
    return redirect(url_for("cabinet.mailing", campaign_id=campaign_id))


def control_error(exc: RelayError) -> str:
    text = mailing_error(exc)
    if exc.code == "no_consented_recipients":
        blocked = (exc.fields or {}).get("blocked") or {}
        if isinstance(blocked, dict) and blocked:
            parts = ", ".join(f"{reason_text(k)}: {v}" for k, v in sorted(blocked.items()))
            text = f"{text} {parts}"
    return text


@bp.post("/mailings/<int:campaign_id>/start")
@role_required("manager")
def mailing_start(campaign_id: int):  # type: ignore[no-untyped-def]
    return _control(campaign_id, "start")


@bp.post("/mailings/<int:campaign_id>/pause")
@role_required("manager")
def mailing_pause(campaign_id: int):  # type: ignore[no-untyped-def]
    return _control(campaign_id, "pause")


@bp.post("/mailings/<int:campaign_id>/resume")
@role_required("manager")
def mailing_resume(campaign_id: int):  # type: ignore[no-untyped-def]
    return _control(campaign_id, "resume")


@bp.post("/mailings/<int:campaign_id>/cancel")
@role_required("manager")
def mailing_cancel(campaign_id: int):  # type: ignore[no-untyped-def]
    return _control(campaign_id, "cancel")


@bp.post("/mailings/<int:campaign_id>/delete")
@role_required("manager")
def mailing_delete(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    try:
        require_status(c, ("draft",), "only a draft campaign can be deleted; cancel it instead")
    except RelayError as exc:
        return detail_page(c, errors={"_form": mailing_error(exc)}, status=exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="campaign.delete",
        target_type="campaign", target_id=c.id, before=audit_view(c), at=rt().now(),
    )  # fmt: skip
    delete_draft(g.db, c)
    g.db.commit()
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("cabinet.mailings"))


def edit_form(c: Any) -> dict[str, str]:
    zone = tenant_zone(g.tenant)
    channel = "viber_sms" if c.channels == ["viber", "sms"] else (c.channels or ["sms"])[0]
    return {
        "name": c.name, "book_id": str(c.book_id or ""), "template": c.template or "",
        "sender": c.sender or "", "channel": channel, "category": c.category,
        "recurrence": c.recurrence or "once",
        "start_at": c.start_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if c.start_at else "",
        "pace_count": str(c.pace_count or ""), "pace_minutes": str(c.pace_minutes or ""),
        "test_phone": c.test_phone or "", "text": own_text(c) or "",
        "local_time": c.local_time or "", "local_until": c.local_until or "",
        "best_hour": "1" if c.best_hour else "",
    }  # fmt: skip


def edit_page(c: Any, form: dict[str, str], errors: dict[str, str] | None = None,
              status: int = 200) -> Any:  # fmt: skip
    return (
        render_template(
            "cabinet/mailing_edit.html",
            active="mailings",
            c=c,
            form=form,
            errors=errors or {},
            own_text=own_text(c),
            **choices(),
        ),  # fmt: skip
        status,
    )


@bp.get("/mailings/<int:campaign_id>/edit")
@role_required("manager")
def mailing_edit(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    if c.status != "draft":
        flash(_("Only a mailing not started yet can be changed."), "warning")
        return redirect(url_for("cabinet.mailing", campaign_id=c.id))
    return edit_page(c, edit_form(c))


@bp.post("/mailings/<int:campaign_id>/edit")
@role_required("manager")
def mailing_update(campaign_id: int):  # type: ignore[no-untyped-def]
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    form = request.form.to_dict()
    form.pop("csrf_token", None)
    now = rt().now()
    before = audit_view(c)
    try:
        data = campaign_data(form)
        book_id = id_of(form.get("book_id"))
        if book_id is None:
            raise bad_field("book_required", "book_id", "choose an address book")
        data["book_id"] = book_id
        if own_text(c) is not None:
            save_own_text(c, form.get("text") or "")
            data["template"] = c.template
        else:
            data["template"] = (form.get("template") or "").strip() or c.template
        update_campaign(g.db, g.tenant, c, data, now)
    except RelayError as exc:
        g.db.rollback()
        c = get_campaign(g.db, g.tenant.id, campaign_id)
        return edit_page(c, form, form_errors_for(exc), exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="campaign.update",
        target_type="campaign", target_id=c.id, before=before, after=audit_view(c), at=now,
    )  # fmt: skip
    g.db.commit()
    flash(_("The mailing is saved."), "success")
    return redirect(url_for("cabinet.mailing", campaign_id=c.id))


@bp.get("/mailings/<int:campaign_id>/report.<fmt>")
@login_required
def mailing_report(campaign_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """Every recipient: number, name, status, reason, times, segments, cost (the API's export)."""
    c = get_campaign(g.db, g.tenant.id, campaign_id)
    if fmt not in ("csv", "xlsx"):
        raise RelayError("not_found", "csv or xlsx", 404)
    f = LogFilter(tenant_id=g.tenant.id, campaign_id=c.id, include_archive=True)
    zone = tenant_zone(g.tenant)
    if fmt == "xlsx":
        path = xlsx_file(rt(), f, zone, True)
        resp = Response(file_chunks(path), mimetype=XLSX_TYPE, direct_passthrough=True)
    else:
        resp = Response(stream_with_context(csv_chunks(rt(), f, zone, True)))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="campaign-{c.id}.{fmt}"'
    return resp
