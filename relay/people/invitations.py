"""Invitations: an owner makes a link for a manager or a viewer; whoever opens it proves a
phone with a code and joins the tenant with that role. A link works once, for 7 days."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.people.codes import CodeCheck, check_code
from relay.people.passwords import check_new_password
from relay.people.users import check_name, create_user, phone_taken
from relay.storage.models import Invitation, Tenant, User

VALID_FOR = timedelta(days=7)
INVITABLE = ("manager", "viewer")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    session: Session, tenant_id: str, by: User | None, role: str, name: str | None, now: datetime
) -> tuple[Invitation, str]:
    """An invitation and its token (shown once: only its SHA-256 is kept). An owner invites
    managers and viewers; the operator (`by` None, `relay invitations create`) may also invite
    a store's first owner — the way in when RELAY_SIGNUP=invite."""
    if role not in INVITABLE and not (by is None and role == "owner"):
        raise RelayError(
            "invalid_role", "invite a manager or a viewer", 422, {"role": ["manager, viewer"]}
        )
    name = (name or "").strip()[:200] or None
    token = secrets.token_urlsafe(24)
    row = Invitation(
        tenant_id=tenant_id,
        role=role,
        token_hash=_hash(token),
        name=name,
        invited_by=by.id if by is not None else None,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(row)
    session.flush()
    return row, token


def pending_invitations(session: Session, tenant_id: str, now: datetime) -> list[Invitation]:
    """Invitations not yet used, revoked or expired, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.tenant_id == tenant_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def revoke_invitation(session: Session, tenant_id: str, invitation_id: Any, now: datetime) -> None:
    """Withdraw one of the tenant's invitations; another tenant's is "not found"."""
    row = session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None
    if row is None or row.tenant_id != tenant_id:
        raise RelayError("invitation_not_found", "no such invitation", 404)
    row.revoked_at = row.revoked_at or now


def open_invitation(
    session: Session, token: str | None, now: datetime
) -> tuple[Invitation, Tenant]:
    """The live invitation of a token and its tenant; RelayError `invitation_invalid` (404)
    for an unknown, used, withdrawn or expired one (they all look the same to the visitor)."""
    row = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token or "")))
    if (
        row is None
        or row.accepted_at is not None
        or row.revoked_at is not None
        or row.expires_at <= now
    ):
        raise RelayError("invitation_invalid", "this invitation link is not valid any more", 404)
    tenant = session.get(Tenant, row.tenant_id)
    if tenant is None or tenant.status != "active":
        raise RelayError("invitation_invalid", "this invitation link is not valid any more", 404)
    return row, tenant


def accept_invitation(
    rt: Any,
    session: Session,
    token: str,
    *,
    phone: str,
    code: str,
    name: str,
    password: str,
    locale: str,
    now: datetime,
) -> tuple[CodeCheck, User | None]:
    """Check the invitation and the form, then the code; when right, the new user joins the
    tenant with the invitation's role and the invitation is used up. The caller commits."""
    row, tenant = open_invitation(session, token, now)
    name = check_name(name)
    check_new_password(password)
    if phone_taken(session, phone):
        raise RelayError("phone_taken", "this number already has an account", 409)
    checked = check_code(rt, session, phone, "invite", code, now)
    if not checked.ok:
        return checked, None
    user = create_user(session, tenant.id, phone, name, row.role, password, now, locale)
    user.last_login_at = now
    row.accepted_at, row.accepted_by = now, user.id
    return checked, user
