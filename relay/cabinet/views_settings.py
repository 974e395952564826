"""Settings: the user's language and sessions, the store's quiet hours (managers and owners),
the team and invitations (owners). Another store's user or invitation is a 404 page."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from relay.cabinet.blueprint import ROLE_NAMES, bp
from relay.cabinet.i18n import LANGUAGE_NAMES
from relay.cabinet.insight import when
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.settings_texts import SCOPE_NAMES, STORE_FIELDS, settings_errors
from relay.cabinet.texts import form_errors
from relay.compliance.audit import audit
from relay.compliance.audit_query import audit_page
from relay.errors import RelayError
from relay.gateways.health import tenant_gateways
from relay.people import invitations, users
from relay.tenancy.settings_admin import settings_view, update_settings
from relay.tenancy.tenant_admin import find_key, get_tenant, key_view, keys_of
from relay.tenancy.tenants import SCOPES, create_key, revoke_key


def _actor() -> str:
    return f"user:{g.user.id}"


def _page(
    errors: dict[str, str] | None = None,
    invite_errors: dict[str, str] | None = None,
    status: int = 200,
    notify_errors: dict[str, str] | None = None,
    key_errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Any:
    now = rt().now()
    owner = users.may(g.user.role, "owner")
    manager = users.may(g.user.role, "manager")
    return (
        render_template(
            "cabinet/settings.html",
            active="settings",
            store=settings_view(g.tenant),
            team=users.users_of(g.db, g.tenant.id),
            invitations=invitations.pending_invitations(g.db, g.tenant.id, now) if owner else [],
            invitable=[(r, ROLE_NAMES[r]) for r in invitations.INVITABLE],
            language_choices=list(LANGUAGE_NAMES.items()),
            new_invite=session.pop("new_invite", None) if owner else None,
            errors=errors or {},
            invite_errors=invite_errors or {},
            notify_errors=notify_errors or {},
            key_errors=key_errors or {},
            form=form or {},
            keys=keys_of(g.db, g.tenant.id) if manager else [],
            new_key=session.pop("new_key", None) if owner else None,
            scope_choices=[(sc, SCOPE_NAMES[sc]) for sc in SCOPES],
            scope_names=SCOPE_NAMES,
            gateways=tenant_gateways(rt(), g.db, g.tenant.id),
            local_time=when,
        ),
        status,
    )


@bp.get("/settings", endpoint="settings")
@login_required
def settings_page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/settings/store")
@role_required("manager")
def settings_store():  # type: ignore[no-untyped-def]
    before = settings_view(g.tenant)
    form = {k: request.form.get(k, "").strip()[:200] for k in STORE_FIELDS if k in request.form}
    patch: dict[str, Any] = {
        "quiet_hours": {
            "start": request.form.get("quiet_start", "").strip()[:5],
            "end": request.form.get("quiet_end", "").strip()[:5],
        }
    }
    try:
        if "timezone" in form:
            patch["timezone"] = form["timezone"]
        if "frequency_cap" in form:
            if not form["frequency_cap"].isdigit() or int(form["frequency_cap"]) > 1000:
                raise RelayError(
                    "invalid_settings", "frequency_cap: 0 to 1000", 422, {"frequency_cap": ["0-"]}
                )
            patch["frequency_cap"] = int(form["frequency_cap"])
        if "optout_footer" in form:
            patch["optout_footer"] = form["optout_footer"] or None
        update_settings(g.db, g.tenant, patch)
    except RelayError as exc:
        g.db.rollback()
        return _page(errors=settings_errors(exc), status=exc.status, form=form)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="settings.update",
        target_type="tenant", target_id=g.tenant.id, before=before,
        after=settings_view(g.tenant), at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    if len(form) > 0:
        flash(_("The store's rules are saved."), "success")
    else:
        flash(_("The quiet hours are saved."), "success")
    return redirect(url_for("cabinet.settings"))


@bp.post("/team/invitations")
@role_required("owner")
def team_invite():  # type: ignore[no-untyped-def]
    now = rt().now()
    try:
        row, token = invitations.create_invitation(
            g.db, g.tenant.id, g.user, request.form.get("role", ""),
            request.form.get("name", ""), now,
        )  # fmt: skip
    except RelayError as exc:
        g.db.rollback()
        return _page(invite_errors=form_errors(exc), status=exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="invitation.create",
        target_type="invitation", target_id=row.id, after={"role": row.role, "name": row.name},
        at=now,
    )  # fmt: skip
    g.db.commit()
    session["new_invite"] = url_for("cabinet.invite", token=token, _external=True)
    return redirect(url_for("cabinet.settings") + "#h-team")


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@role_required("owner")
def team_revoke(invitation_id: int):  # type: ignore[no-untyped-def]
    now = rt().now()
    invitations.revoke_invitation(g.db, g.tenant.id, invitation_id, now)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="invitation.revoke",
        target_type="invitation", target_id=invitation_id, at=now,
    )  # fmt: skip
    g.db.commit()
    flash(_("The invitation is withdrawn."), "success")
    return redirect(url_for("cabinet.settings") + "#h-team")


def _member_page(member: Any, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "cabinet/team_member.html",
            active="settings",
            member=member,
            roles=[(r, ROLE_NAMES[r]) for r in ("owner", "manager", "viewer")],
            errors=errors or {},
        ),
        status,
    )


@bp.get("/team/<user_id>")
@login_required
def team_member(user_id: str):  # type: ignore[no-untyped-def]
    return _member_page(users.user_of(g.db, g.tenant.id, user_id))


@bp.post("/team/<user_id>/role")
@role_required("owner")
def team_role(user_id: str):  # type: ignore[no-untyped-def]
    member = users.user_of(g.db, g.tenant.id, user_id)
    before = member.role
    try:
        users.change_role(g.db, g.tenant.id, user_id, request.form.get("role", ""))
    except RelayError as exc:
        g.db.rollback()
        return _member_page(users.user_of(g.db, g.tenant.id, user_id), form_errors(exc), exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="user.role",
        target_type="user", target_id=user_id, before={"role": before},
        after={"role": member.role}, at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    flash(_("The role is saved."), "success")
    if member.id == g.user.id:
        return redirect(url_for("cabinet.signin"))
    return redirect(url_for("cabinet.team_member", user_id=user_id))


def _lines(raw: str) -> list[str]:
    return [p.strip() for p in raw.replace(",", "\n").splitlines() if p.strip()][:50]


@bp.post("/settings/notifications")
@role_required("manager")
def settings_notifications():  # type: ignore[no-untyped-def]
    """Where the relay's service notices go: phones and e-mail addresses."""
    before = settings_view(g.tenant)
    form = {k: request.form.get(k, "")[:4000] for k in ("phones", "emails")}
    contacts = {"phones": _lines(form["phones"]), "emails": _lines(form["emails"])}
    patch = {"notification_contacts": contacts}
    try:
        update_settings(g.db, g.tenant, patch)
    except RelayError as exc:
        g.db.rollback()
        return _page(notify_errors=settings_errors(exc), status=exc.status, form=form)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="settings.update",
        target_type="tenant", target_id=g.tenant.id, before=before,
        after=settings_view(g.tenant), at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    flash(_("The notification contacts are saved."), "success")
    return redirect(url_for("cabinet.settings") + "#h-notify")


@bp.post("/settings/keys")
@role_required("owner")
def settings_key_create():  # type: ignore[no-untyped-def]
    """A new API key, shown once on the next page."""
    scopes = [sc for sc in request.form.getlist("scopes") if sc in SCOPES]
    name = request.form.get("name", "").strip()[:100] or None
    if not scopes:
        return _page(key_errors={"scopes": _("Choose at least one permission.")}, status=422)
    tenant = get_tenant(g.db, g.tenant.id)
    row, key = create_key(g.db, tenant, scopes, name)
    view = key_view(row)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="key.create",
        target_type="api_key", target_id=row.id, after=view, at=rt().now(),
    )  # fmt: skip
    g.db.commit()
    session["new_key"] = key
    return redirect(url_for("cabinet.settings") + "#h-keys")


@bp.post("/settings/keys/<key_id>/revoke")
@role_required("owner")
def settings_key_revoke(key_id: str):  # type: ignore[no-untyped-def]
    tenant = get_tenant(g.db, g.tenant.id)
    before = key_view(find_key(g.db, g.tenant.id, key_id))  # another store's key: 404
    row = revoke_key(g.db, tenant, key_id, rt().now())
    after = key_view(row)
    if before != after:
        audit(
            g.db, tenant_id=g.tenant.id, actor=_actor(), action="key.revoke",
            target_type="api_key", target_id=row.id, before=before, after=after, at=rt().now(),
        )  # fmt: skip
    g.db.commit()
    flash(_("The key is revoked: it stops working within seconds."), "success")
    return redirect(url_for("cabinet.settings") + "#h-keys")


@bp.get("/settings/audit")
@role_required("manager")
def settings_audit():  # type: ignore[no-untyped-def]
    """The store's audit log, newest first, 50 a page."""
    before_raw = request.args.get("before", "")
    if before_raw and not before_raw.isdigit():
        raise RelayError("invalid_filter", "not a page", 400)
    before = int(before_raw) if before_raw else None
    entries, nxt = audit_page(g.db, g.tenant.id, 50, before)
    return render_template(
        "cabinet/audit.html",
        active="settings",
        entries=entries,
        next_url=url_for("cabinet.settings_audit", before=nxt) if nxt else None,
        prev_url=url_for("cabinet.settings_audit") if before else None,
        local_time=when,
    )
