"""Stop-lists per channel: search, add numbers (all or none), delete selected, clear all in two
steps (the API's confirmation token), download, import from xlsx/csv (the import use case)."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.lists_support import (
    PAGE_SIZE,
    actor,
    cursor_arg,
    download,
    export_format,
    list_form_errors,
    phone,
    receive_file,
)
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.texts import MESSAGES
from relay.compliance.stoplist_admin import (
    EXPORT_HEADER,
    STOP_CHANNELS,
    add_entry,
    confirm_clear,
    delete_entries,
    export_rows,
    request_clear,
    search_entries,
)
from relay.contacts import imports
from relay.errors import RelayError

CHANNEL_NAMES = {"sms": _l("SMS"), "viber": _l("Viber"), "all": _l("all channels")}
SOURCE_NAMES = {
    "admin": _l("added by hand"),
    "import": _l("imported"),
    "reply": _l("the recipient's reply"),
    "provider": _l("the gateway"),
}
MAX_NUMBERS = 500
MAX_NOTE = 1000
SPLIT = re.compile(r"[\n,;]+")
MESSAGES.update(
    {
        "invalid_channel": _l("Choose a channel from the list."),
        "invalid_note": _l("The note is at most 1000 characters."),
        "too_many_numbers": _l("Add at most 500 numbers at once, or import a file."),
        "numbers_required": _l("Enter at least one number."),
        "invalid_confirmation": _l("The confirmation is not valid. Ask again."),
        "confirmation_expired": _l("The confirmation expired. Ask again."),
        "confirmation_stale": _l("The stop-list changed since you asked. Ask again."),
    }
)


def _channel(raw: str | None, allow_none: bool = True) -> str | None:
    if not raw and allow_none:
        return None
    if raw not in STOP_CHANNELS:
        raise RelayError("invalid_channel", "unknown channel", 422, {"channel": []})
    return raw


def _page(errors: dict[str, str] | None = None, import_errors: dict[str, str] | None = None,
          status: int = 200, form: dict[str, str] | None = None) -> Any:  # fmt: skip
    channel = request.args.get("channel") or None
    if channel not in (None, *STOP_CHANNELS):
        channel = None
    q = request.args.get("q", "").strip()[:100]
    cursor = cursor_arg()
    entries, nxt = search_entries(
        g.db, g.tenant.id, channel=channel, q=q or None, cursor=cursor, limit=PAGE_SIZE
    )
    return render_template(
        "cabinet/stoplists.html", active="stoplists", entries=entries, channel=channel, q=q,
        channels=[(c, CHANNEL_NAMES[c]) for c in STOP_CHANNELS],
        channel_names=CHANNEL_NAMES, source_names=SOURCE_NAMES,
        next_url=url_for("cabinet.stoplists", channel=channel, q=q or None, cursor=nxt)
        if nxt else None,
        prev_url=url_for("cabinet.stoplists", channel=channel, q=q or None) if cursor else None,
        errors=errors or {}, import_errors=import_errors or {}, form=form or {},
    ), status  # fmt: skip


@bp.get("/stoplists", endpoint="stoplists")
@login_required
def stoplists_page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/stoplists/add")
@role_required("manager")
def stoplist_add():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "") for k in ("numbers", "channel", "note")}
    added = 0
    try:
        channel = _channel(form["channel"], allow_none=False)
        note = form["note"].strip() or None
        if note and len(note) > MAX_NOTE:
            raise RelayError("invalid_note", "note too long", 422, {"note": []})
        raw = [n.strip() for n in SPLIT.split(form["numbers"]) if n.strip()]
        if not raw:
            raise RelayError("numbers_required", "no numbers", 422, {"numbers": []})
        if len(raw) > MAX_NUMBERS:
            raise RelayError("too_many_numbers", "too many", 422, {"numbers": []})
        numbers = []
        for n in raw:  # every number checked before any is written
            try:
                numbers.append(phone(n, "numbers"))
            except RelayError as exc:
                raise RelayError(exc.code, f"{n}: {exc.message}", 422, {"numbers": []}) from exc
        now = rt().now()
        for number in dict.fromkeys(numbers):
            _entry, created = add_entry(g.db, g.tenant, number, str(channel), note, actor(), now)
            added += created
    except RelayError as exc:
        g.db.rollback()
        errors = list_form_errors(exc)
        if "numbers" in exc.fields and exc.code not in ("numbers_required", "too_many_numbers"):
            errors = {"numbers": _("Not a number we can use: %(detail)s", detail=exc.message)}
        return _page(errors=errors, status=exc.status, form=form)
    g.db.commit()
    flash(_("Numbers added to the stop-list: %(n)s.", n=added), "success")
    return redirect(url_for("cabinet.stoplists"))


@bp.post("/stoplists/delete")
@role_required("manager")
def stoplist_delete():  # type: ignore[no-untyped-def]
    ids = list(dict.fromkeys(int(i) for i in request.form.getlist("ids") if i.isdigit()))[:500]
    if not ids:
        return _page(errors={"_form": _("Select the entries to delete.")}, status=422)
    deleted, _missing = delete_entries(g.db, g.tenant, ids, actor(), rt().now())
    g.db.commit()
    flash(_("Entries deleted: %(n)s.", n=deleted), "success")
    return redirect(url_for("cabinet.stoplists"))


@bp.get("/stoplists/clear")
@role_required("manager")
def stoplist_clear_confirm():  # type: ignore[no-untyped-def]
    channel = _channel(request.args.get("channel") or None)
    ask = request_clear(g.db, g.tenant, channel, str(rt().config["SECRET_KEY"]), rt().now())
    return render_template(
        "cabinet/stoplist_clear.html", active="stoplists", ask=ask, channel=channel,
        channel_names=CHANNEL_NAMES,
    )  # fmt: skip


@bp.post("/stoplists/clear")
@role_required("manager")
def stoplist_clear():  # type: ignore[no-untyped-def]
    channel = _channel(request.form.get("channel") or None)
    try:
        deleted = confirm_clear(
            g.db, g.tenant, channel, request.form.get("confirm_token", ""),
            str(rt().config["SECRET_KEY"]), actor(), rt().now(),
        )  # fmt: skip
    except RelayError as exc:
        g.db.rollback()
        flash(list_form_errors(exc).popitem()[1], "error")
        return redirect(url_for("cabinet.stoplist_clear_confirm", channel=channel)), 303
    g.db.commit()
    flash(_("Entries deleted: %(n)s.", n=deleted), "success")
    return redirect(url_for("cabinet.stoplists"))


@bp.get("/stoplists/export")
@login_required
def stoplist_export():  # type: ignore[no-untyped-def]
    fmt = export_format()
    channel = _channel(request.args.get("channel") or None)
    rows = export_rows(rt(), g.tenant.id, channel)
    return download(fmt, "stoplist", EXPORT_HEADER, rows)


@bp.post("/stoplists/import", endpoint="stoplist_import")
@role_required("manager")
def stoplist_import():  # type: ignore[no-untyped-def]
    try:
        channel = _channel(request.form.get("import_channel") or None)
        upload = receive_file()  # start_import deletes it, or hands it to a worker
        job, _t, _done = imports.start_import(
            g.db, rt(), g.tenant, "stoplist", upload, {"channel": channel, "actor": actor()}
        )
    except RelayError as exc:
        g.db.rollback()
        errors = {("import_channel" if k == "channel" else k): v
                  for k, v in list_form_errors(exc).items()}  # fmt: skip
        return _page(import_errors=errors, status=exc.status)
    return redirect(url_for("cabinet.import_job", job_id=job["id"]))
