"""Users of a tenant: create, sign in, roles, language, sign out everywhere, password reset.

Every lookup that takes an id from a request is scoped to the caller's tenant: another
tenant's user is "not found", never "forbidden".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.adapters.attempts import attempt_gate
from relay.errors import RelayError
from relay.people.codes import CodeCheck, check_code
from relay.people.passwords import check_new_password, hash_password, needs_rehash, verify_password
from relay.storage.models import ROLES, Tenant, User

LOCALES = ("ru", "en")
RANK = {"viewer": 0, "manager": 1, "owner": 2}
PLATFORM_NAMES = {"bitrix24": "Bitrix24", "amocrm": "amoCRM", "woocommerce": "WordPress"}


def may(role: str, needed: str) -> bool:
    """True when `role` is at least `needed` (owner > manager > viewer)."""
    return RANK.get(role, -1) >= RANK[needed]


def check_name(name: str | None, field: str = "name") -> str:
    """A person's or a store's name: 1–200 characters after trimming."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise RelayError(
            "invalid_name", "a name needs 1 to 200 characters", 422, {field: ["1–200"]}
        )
    return name


def check_role(role: str | None) -> str:
    if role is None or role not in ROLES:
        raise RelayError(
            "invalid_role",
            f"role must be one of {list(ROLES)}",
            422,
            {"role": [f"one of {list(ROLES)}"]},
        )
    return role


def phone_taken(session: Session, phone: str) -> bool:
    """True when a user already signs in with this number."""
    return session.scalar(select(User.id).where(User.phone == phone)) is not None


def create_user(
    session: Session,
    tenant_id: str,
    phone: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
    locale: str | None = None,
) -> User:
    """A person with a verified phone; RelayError `phone_taken` (409) when the number has an
    account already (one account per number)."""
    name = check_name(name)
    check_role(role)
    check_new_password(password)
    if phone_taken(session, phone):
        raise RelayError(
            "phone_taken", "this number already has an account", 409, {"phone": ["taken"]}
        )
    user = User(
        tenant_id=tenant_id,
        phone=phone,
        name=name,
        role=role,
        password_hash=hash_password(password),
        locale=locale if locale in LOCALES else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, phone: str, password: str, now: datetime) -> User | None:
    """The active user with this phone and password, or None (the same time either way)."""
    user = session.scalar(select(User).where(User.phone == phone))
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    assert user is not None
    if user.status != "active" or _tenant_status(session, user.tenant_id) != "active":
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


SIGNIN_RATES = {"phone": ("10 per 15 minutes",), "ip": ("50 per 15 minutes",)}


def attempt_sign_in(
    rt: Any, session: Session, phone: str, password: str, ip: str | None, now: datetime
) -> User | None:
    """`sign_in` under limits per number and per IP (failed attempts count; a success clears
    the number's count). RelayError `too_many_signins` (429, `retry_after`) when over."""
    import time

    from relay.people.codes import _phone_key

    rates = {**SIGNIN_RATES, **(rt.config.get("SIGNIN_RATES") or {})}
    number = [
        (f"signin:phone:{_phone_key(rt.config['SECRET_KEY'], phone)}", r) for r in rates["phone"]
    ]
    rules = number + ([(f"signin:ip:{ip}", r) for r in rates["ip"]] if ip else [])
    gate = attempt_gate(rt.config["REDIS_URL"])
    wait = gate.wait_seconds(rules, time.time())
    if wait:
        raise RelayError(
            "too_many_signins", "too many sign-in attempts: try later", 429, {"retry_after": wait}
        )
    user = sign_in(session, phone, password, now)
    if user is None:
        gate.hit(rules)
    else:
        gate.clear(number)
    return user


def tenant_of_phone(session: Session, phone: str) -> str | None:
    """The tenant of the user who signs in with this number, if any."""
    return session.scalar(select(User.tenant_id).where(User.phone == phone))


def reset_with_code(
    rt: Any, session: Session, phone: str, code: str, password: str, now: datetime
) -> tuple[CodeCheck, User | None]:
    """A new password for the number's user, once its reset code is right (the caller
    commits either way: a wrong code is counted)."""
    check_new_password(password)
    checked = check_code(rt, session, phone, "reset", code, now)
    if not checked.ok:
        return checked, None
    user = reset_password(session, phone, password)
    user.last_login_at = now
    return checked, user


def _tenant_status(session: Session, tenant_id: str) -> str | None:
    return session.scalar(select(Tenant.status).where(Tenant.id == tenant_id))


def session_user(session: Session, user_id: Any, version: Any) -> tuple[User, Tenant] | None:
    """The user and tenant of a login session, or None when the user is gone or disabled,
    the tenant is disabled, or the session predates a "sign out everywhere"."""
    if not isinstance(user_id, str) or not isinstance(version, int):
        return None
    found = session.execute(
        select(User, Tenant).join(Tenant, Tenant.id == User.tenant_id).where(User.id == user_id)
    ).first()
    if found is None:
        return None
    user, tenant = found
    if user.status != "active" or tenant.status != "active" or user.session_version != version:
        return None
    return user, tenant


def users_of(session: Session, tenant_id: str) -> list[User]:
    """The tenant's users: owners first, then by name."""
    rows = session.scalars(select(User).where(User.tenant_id == tenant_id))
    return sorted(rows, key=lambda u: (-RANK.get(u.role, 0), u.name.casefold()))


def user_of(session: Session, tenant_id: str, user_id: Any) -> User:
    """One of the tenant's users; RelayError `user_not_found` (404) for anyone else's."""
    user = session.get(User, user_id) if isinstance(user_id, str) else None
    if user is None or user.tenant_id != tenant_id:
        raise RelayError("user_not_found", "no such user", 404)
    return user


def change_role(session: Session, tenant_id: str, user_id: str, role: str) -> User:
    """Give one of the tenant's users another role; the last owner stays an owner."""
    check_role(role)
    user = user_of(session, tenant_id, user_id)
    if user.role == "owner" and role != "owner":
        owners = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.tenant_id == tenant_id, User.role == "owner", User.status == "active")
        )
        if int(owners or 0) <= 1:
            raise RelayError(
                "last_owner", "a store keeps at least one owner", 409, {"role": ["last owner"]}
            )
    if user.role != role:
        user.role = role
        user.session_version += 1  # the new role applies now, not at the next sign-in
    return user


def set_locale(user: User, locale: str) -> None:
    """The user's language for the cabinet."""
    if locale not in LOCALES:
        raise RelayError("invalid_locale", f"one of {list(LOCALES)}", 422, {"locale": ["ru, en"]})
    user.locale = locale


def sign_out_everywhere(user: User) -> None:
    """End every login session of this user (each carries the old version)."""
    user.session_version += 1


def reset_password(session: Session, phone: str, password: str) -> User:
    """Set a new password for the user with this (verified) phone and end their sessions."""
    check_new_password(password)
    user = session.scalar(select(User).where(User.phone == phone))
    if user is None:
        raise RelayError("user_not_found", "no account with this number", 404)
    user.password_hash = hash_password(password)
    user.session_version += 1
    return user


def platform_user(session: Session, tenant_id: str, platform: str, now: datetime) -> User:
    """The tenant's user for single sign-on from a platform's page (made on first use): a
    manager with no phone and no password, who exists only through the platform's links."""
    user = session.scalar(
        select(User).where(User.tenant_id == tenant_id, User.platform == platform)
    )
    if user is None:
        user = User(
            tenant_id=tenant_id,
            name=PLATFORM_NAMES.get(platform, platform),
            role="manager",
            platform=platform,
            created_at=now,
        )
        session.add(user)
        session.flush()
    return user
