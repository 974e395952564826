"""Consent: the ledger (newest first, or one number's), with the wording shown, source, IP and
time; the state in force per channel; the evidence export (the API's evidence use case); an
import of grants collected elsewhere (the import use case, with the API's checks)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from relay.adapters.tabular_export import XLSX_MIME, file_chunks, write_xlsx
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
from relay.compliance.consent_evidence import (
    MESSAGE_COLUMNS,
    RECORD_COLUMNS,
    evidence,
    evidence_flat,
    evidence_sheets,
)
from relay.compliance.consent_ledger import current_state, import_options, list_records
from relay.contacts import imports
from relay.errors import RelayError

CHANNEL_NAMES = {"sms": _l("SMS"), "viber": _l("Viber"), "all": _l("all channels")}
PURPOSE_NAMES = {"marketing": _l("advertising"), "transactional": _l("service messages")}
MESSAGES.update(
    {
        "wording_required": _l(
            "Paste the exact text these people agreed to: without it a record proves nothing."
        ),
        "invalid_wording": _l("The wording is at most 10000 characters."),
    }
)


@bp.get("/consent", endpoint="consent")
@login_required
def consent_page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/consent/import", endpoint="consent_import")
@role_required("manager")
def consent_import():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "") for k in ("wording", "import_channel", "revoked")}
    try:
        options = import_options(
            form["wording"], form["import_channel"] or None, granted=not form["revoked"]
        )
        upload = receive_file()  # start_import deletes it, or hands it to a worker
        job, _t, _done = imports.start_import(
            g.db, rt(), g.tenant, "consent", upload, {**options, "actor": actor()}
        )
    except RelayError as exc:
        g.db.rollback()
        errors = {("import_channel" if k == "channel" else k): v
                  for k, v in list_form_errors(exc).items()}  # fmt: skip
        return _page(import_errors=errors, status=exc.status, form=form)
    return redirect(url_for("cabinet.import_job", job_id=job["id"]))


def _page(import_errors: dict[str, str] | None = None, status: int = 200,
          form: dict[str, str] | None = None) -> Any:  # fmt: skip
    raw = request.args.get("phone", "").strip()[:40]
    number, errors, current = None, {}, None
    if raw:
        try:
            number = phone(raw)
        except RelayError as exc:
            errors, status = list_form_errors(exc), exc.status
    records: list[Any] = []
    nxt = None
    if not errors:
        records, nxt = list_records(
            g.db, g.tenant.id, phone=number, cursor=cursor_arg(), limit=PAGE_SIZE
        )
    if number:
        current = [
            (CHANNEL_NAMES.get(ch, ch), state) for ch, state in current_state(
                g.db, g.tenant.id, number).items()
        ]  # fmt: skip
    return render_template(
        "cabinet/consent.html", active="consent", raw=raw, number=number, errors=errors,
        records=records, current=current, channel_names=CHANNEL_NAMES,
        purpose_names=PURPOSE_NAMES, channels=list(CHANNEL_NAMES.items()),
        import_errors=import_errors or {}, form=form or {},
        next_url=url_for("cabinet.consent", phone=number, cursor=nxt) if nxt else None,
        prev_url=url_for("cabinet.consent", phone=number) if cursor_arg() else None,
    ), status  # fmt: skip


@bp.get("/consent/evidence")
@login_required
def consent_evidence():  # type: ignore[no-untyped-def]
    fmt = export_format(("xlsx", "csv", "json"))
    number = phone(request.args.get("phone", ""))
    doc = evidence(g.db, g.tenant, number, rt().now())
    name = f"consent-evidence-{number.lstrip('+')}"
    if fmt == "json":
        response = Response(
            json.dumps(doc, ensure_ascii=False, indent=2), mimetype="application/json"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt == "csv":
        return download("csv", name, (*RECORD_COLUMNS, *MESSAGE_COLUMNS), evidence_flat(doc))
    response = Response(file_chunks(write_xlsx(evidence_sheets(doc))), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    response.headers["Cache-Control"] = "no-store"
    return response
