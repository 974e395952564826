"""Sign-up: a verified phone becomes the owner of a new tenant with the default flows.

Whether anyone may sign up is the operator's choice, `RELAY_SIGNUP`: `open`, `invite` (only
through an invitation link) or `closed` (the default outside `relay up`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.content.flowdefs import default_flows, load_flows
from relay.errors import RelayError
from relay.people.codes import CodeCheck, check_code
from relay.people.passwords import check_new_password
from relay.people.system import SYSTEM_TENANT
from relay.people.users import check_name, create_user, phone_taken
from relay.storage.models import Tenant, User
from relay.tenancy.tenants import DEFAULT_ZONES, create_tenant

MODES = ("open", "invite", "closed")
REGIONS = tuple(DEFAULT_ZONES)


def signup_mode(config: dict[str, Any]) -> str:
    """open | invite | closed (anything unknown counts as closed)."""
    mode = str(config.get("SIGNUP") or "closed").strip().lower()
    return mode if mode in MODES else "closed"


def require_open(config: dict[str, Any]) -> None:
    """RelayError `signup_closed` (403) unless sign-up is open."""
    if signup_mode(config) != "open":
        raise RelayError("signup_closed", "sign-up is not open on this relay", 403)


def check_store(session: Session, store: str | None, region: str | None) -> tuple[str, str]:
    """The store name (free) and region (RU, BY or KZ) of a sign-up, or RelayError."""
    store = check_name(store, "store")
    region = (region or "").upper()
    if region not in REGIONS:
        raise RelayError("unsupported_region", "choose RU, BY or KZ", 422, {"region": ["RU/BY/KZ"]})
    if store == SYSTEM_TENANT or session.scalar(select(Tenant.id).where(Tenant.name == store)):
        raise RelayError(
            "tenant_exists", "a store with this name exists", 409, {"store": ["taken"]}
        )
    return store, region


def complete_signup(
    rt: Any,
    session: Session,
    *,
    phone: str,
    code: str,
    store: str,
    region: str,
    name: str,
    password: str,
    locale: str,
    now: datetime,
) -> tuple[CodeCheck, User | None]:
    """Check everything, then the code; when it is right create the tenant (default flows)
    and its owner. Returns the code check and the user (None unless the code was right). The
    caller commits either way: a wrong code is counted even though nothing else is written."""
    store, region = check_store(session, store, region)
    name = check_name(name)
    check_new_password(password)
    if phone_taken(session, phone):
        raise RelayError("phone_taken", "this number already has an account", 409)
    checked = check_code(rt, session, phone, "signup", code, now)
    if not checked.ok:
        return checked, None
    tenant = create_tenant(session, store, region)
    load_flows(session, tenant, default_flows())
    user = create_user(session, tenant.id, phone, name, "owner", password, now, locale)
    user.last_login_at = now
    return checked, user
