"""Settings: the user's language and sessions, the store's quiet hours (managers and owners),
the team and invitations (owners). Another store's user or invitation is a 404 page."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from relay.cabinet.blueprint import ROLE_NAMES, bp
from relay.cabinet.i18n import LANGUAGE_NAMES
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.texts import error_text, form_errors
from relay.compliance.audit import audit
from relay.errors import RelayError
from relay.people import invitations, users
from relay.tenancy.settings_admin import settings_view, update_settings


def _actor() -> str:
    return f"user:{g.user.id}"


def _page(
    errors: dict[str, str] | None = None,
    invite_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    now = rt().now()
    owner = users.may(g.user.role, "owner")
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
    patch = {
        "quiet_hours": {
            "start": request.form.get("quiet_start", "").strip()[:5],
            "end": request.form.get("quiet_end", "").strip()[:5],
        }
    }
    try:
        update_settings(g.db, g.tenant, patch)
    except RelayError as exc:
        g.db.rollback()
        return _page(errors={"_form": error_text(exc)}, status=exc.status)
    audit(
        g.db, tenant_id=g.tenant.id, actor=_actor(), action="settings.update",
        target_type="tenant", target_id=g.tenant.id, before=before,
        after=settings_view(g.tenant), at=rt().now(),
    )  # fmt: skip
    g.db.commit()
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
