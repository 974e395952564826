"""Templates per channel (SMS and Viber texts): the list, a new template, a template's versions,
a new version, and the preview with sample data (the server's preview use case: text as sent,
footer, encoding, segments, cost). The preview updates as you type (lists.js posts the form to
the preview route); without JavaScript the "Preview" button shows the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.lists_support import actor, list_form_errors
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.texts import MESSAGES
from relay.compliance.audit import audit
from relay.content import template_admin
from relay.errors import RelayError

CATEGORIES = [("transactional", _l("service messages")), ("marketing", _l("advertising"))]
MAX_TEXT = 5000
DETAILED = {
    "template_syntax_error": _l("The text has a mistake in its placeholders."),
    "template_render_error": _l("The text cannot be filled with the sample data."),
    "template_too_long": _l("The text is too long."),
    "missing_optout": _l(
        "An advertising text needs opt-out wording (STOP, СТОП or отписаться), "
        "or an opt-out footer in the settings."
    ),
}
MESSAGES.update(
    {
        "template_exists": _l("There is already a template with this name."),
        "template_not_found": _l("There is no such template in this store."),
        "sender_not_registered": _l("This sender name is not active for the channel."),
        "invalid_template_name": _l("Name: 1 to 100 Latin letters, digits and _ . -"),
        "text_required": _l("Write an SMS text, a Viber text or both."),
        "text_too_long": _l("A text is at most 5000 characters."),
        "invalid_category": _l("Choose the kind of messages from the list."),
    }
)


def _errors(exc: RelayError) -> dict[str, str]:
    if exc.code in DETAILED:
        field = next((f for f in exc.fields if f in ("sms_text", "viber_text")), "_form")
        return {field: f"{DETAILED[exc.code]} ({exc.message})"}
    if exc.code == "validation_error" and "sms_text" in exc.fields:
        return {"sms_text": str(MESSAGES["text_required"])}
    return list_form_errors(exc)


def _spec(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The form's content over the template's other settings (Viber extras, sender)."""
    spec = {k: (base or {}).get(k) for k in template_admin.CONTENT}
    category = request.form.get("category", "")
    if category not in dict(CATEGORIES):
        raise RelayError("invalid_category", "unknown category", 422, {"category": []})
    spec["category"] = category
    for key in ("sms_text", "viber_text"):
        text = request.form.get(key, "").replace("\r\n", "\n").strip()
        if len(text) > MAX_TEXT:
            raise RelayError("text_too_long", "too long", 422, {key: []})
        spec[key] = text or None
    if not (spec["sms_text"] or spec["viber_text"]):
        raise RelayError("text_required", "no text", 422, {"sms_text": []})
    return spec


def _preview(spec: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    try:
        data = template_admin.merged_sample(None)
        return template_admin.render_variants(g.tenant, spec, data), {}
    except RelayError as exc:
        return [], _errors(exc)


@bp.get("/templates", endpoint="templates")
@login_required
def templates_page():  # type: ignore[no-untyped-def]
    return _list_page()


def _list_page(errors: dict[str, str] | None = None, status: int = 200,
               form: dict[str, str] | None = None) -> Any:  # fmt: skip
    rows = [template_admin.template_view(t)
            for t in template_admin.latest_of_each(g.db, g.tenant.id)]  # fmt: skip
    return render_template(
        "cabinet/templates.html", active="templates", templates=rows, categories=CATEGORIES,
        category_names=dict(CATEGORIES), errors=errors or {}, form=form or {},
    ), status  # fmt: skip


@bp.post("/templates/new")
@role_required("manager")
def template_create():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "") for k in ("name", "category", "sms_text", "viber_text")}
    name = form["name"].strip()
    try:
        if not template_admin.NAME.match(name):
            raise RelayError("invalid_template_name", "bad name", 422, {"name": []})
        tpl, _prev, _est = template_admin.save(g.db, g.tenant, name, _spec(), create=True)
    except RelayError as exc:
        g.db.rollback()
        return _list_page(errors=_errors(exc), status=exc.status, form=form)
    view = template_admin.template_view(tpl)
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="template.create",
        target_type="template", target_id=name, after=view, at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    flash(_("The template is saved."), "success")
    return redirect(url_for("cabinet.template", name=name))


def _page(name: str, errors: dict[str, str] | None = None, status: int = 200,
          spec: dict[str, Any] | None = None) -> Any:  # fmt: skip
    raw_version = request.args.get("version", "")
    version = int(raw_version) if raw_version.isdigit() else None
    tpl = template_admin.latest(g.db, g.tenant.id, name, version)
    newest = template_admin.latest(g.db, g.tenant.id, name)
    view = template_admin.template_view(tpl)
    shown = spec or view
    variants, preview_errors = _preview(shown)
    return render_template(
        "cabinet/template.html", active="templates", tpl=view, shown=shown,
        newest=newest.version, versions=_versions(name),
        variants=variants, preview_errors=preview_errors, errors=errors or {},
        categories=CATEGORIES, category_names=dict(CATEGORIES),
    ), status  # fmt: skip


def _versions(name: str) -> list[dict[str, Any]]:
    return [
        {**v, "at": datetime.fromisoformat(v["created_at"]) if v.get("created_at") else None}
        for v in template_admin.versions(g.db, g.tenant.id, name)
    ]


@bp.get("/templates/<name>")
@login_required
def template(name: str):  # type: ignore[no-untyped-def]
    return _page(name)


@bp.post("/templates/<name>")
@role_required("manager")
def template_save(name: str):  # type: ignore[no-untyped-def]
    previous = template_admin.latest(g.db, g.tenant.id, name)  # 404 first
    before = template_admin.template_view(previous)
    try:
        spec = _spec(before)
    except RelayError as exc:
        return _page(name, errors=_errors(exc), status=exc.status)
    if request.form.get("action") == "preview":
        return _page(name, spec=spec)
    try:
        tpl, _prev, _est = template_admin.save(g.db, g.tenant, name, spec, create=False)
    except RelayError as exc:
        g.db.rollback()
        return _page(name, errors=_errors(exc), status=exc.status, spec=spec)
    if tpl.id != previous.id:
        audit(
            g.db, tenant_id=g.tenant.id, actor=actor(), action="template.update",
            target_type="template", target_id=name, before=before,
            after=template_admin.template_view(tpl), at=rt().now(),
        )  # fmt: skip
        flash(_("Version %(n)s is saved.", n=tpl.version), "success")
    else:
        flash(_("Nothing changed: the version stays."), "info")
    g.db.commit()
    return redirect(url_for("cabinet.template", name=name))


@bp.post("/templates/<name>/preview")
@role_required("manager")
def template_preview(name: str):  # type: ignore[no-untyped-def]
    """The preview fragment for lists.js: the form's texts rendered, nothing saved."""
    base = template_admin.template_view(template_admin.latest(g.db, g.tenant.id, name))
    try:
        spec = _spec(base)
        variants, errors = _preview(spec)
    except RelayError as exc:
        variants, errors = [], _errors(exc)
    return render_template("cabinet/_template_preview.html", variants=variants,
                           preview_errors=errors)  # fmt: skip


@bp.get("/templates/<name>/delete")
@role_required("manager")
def template_delete_confirm(name: str):  # type: ignore[no-untyped-def]
    tpl = template_admin.latest(g.db, g.tenant.id, name)  # 404 first
    users = template_admin.template_users(g.db, g.tenant.id, name)
    return render_template("cabinet/template_delete.html", active="templates", tpl=tpl,
                           users=users)  # fmt: skip


@bp.post("/templates/<name>/delete")
@role_required("manager")
def template_delete(name: str):  # type: ignore[no-untyped-def]
    try:
        rows = template_admin.delete_template(g.db, g.tenant.id, name)
    except RelayError as exc:
        if exc.code != "template_in_use":
            raise
        g.db.rollback()
        return redirect(url_for("cabinet.template_delete_confirm", name=name))
    audit(
        g.db, tenant_id=g.tenant.id, actor=actor(), action="template.delete",
        target_type="template", target_id=name, before=template_admin.template_view(rows[-1]),
        at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    flash(_("The template is deleted."), "success")
    return redirect(url_for("cabinet.templates"))
