"""First-run set-up for `relay up`: embedded Redis and a demo tenant on a fresh database, with
an owner who can sign in to the web cabinet."""

from __future__ import annotations

import os
import secrets
from typing import Any

from sqlalchemy import func, select

from relay.adapters.embedded_redis import EmbeddedRedis
from relay.config import VAR_DIR, load_config
from relay.content.flowdefs import default_flows, load_flows
from relay.people.users import create_user
from relay.storage.db import make_engine, make_session_factory
from relay.storage.models import Tenant
from relay.storage.types import utcnow
from relay.tenancy.tenants import create_key, create_tenant

DEMO_TENANT = "demo"
DEMO_OWNER_PHONE = "+375295550010"  # a mobile number; the sandbox delivers to it


def start_embedded_redis_if_needed(cfg: dict[str, Any]) -> EmbeddedRedis | None:
    """Start the embedded Redis when RELAY_REDIS_URL is unset; export its URL."""
    if cfg.get("REDIS_URL"):
        os.environ["RELAY_REDIS_URL"] = cfg["REDIS_URL"]
        return None
    embedded = EmbeddedRedis(VAR_DIR / "redis")
    url = embedded.start()
    os.environ["RELAY_REDIS_URL"] = url
    cfg["REDIS_URL"] = url
    return embedded


def _private_file(name: str, text: str) -> None:
    # var/ may not exist yet (a PostgreSQL database, a given secret key, an outside Redis)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    path.touch(0o600)  # never readable by others, not even for a moment
    path.chmod(0o600)
    path.write_text(text)


def ensure_demo_tenant() -> dict[str, str] | None:
    """On a database with no tenant, create `demo` (region BY) with a full-scope key and an
    owner for the web cabinet (phone + a generated password, kept in var/demo_owner)."""
    engine = make_engine(load_config()["DATABASE_URL"])
    with make_session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(Tenant)):
            return None
        tenant = create_tenant(session, DEMO_TENANT, "BY", "Europe/Minsk")
        load_flows(session, tenant, default_flows())
        _row, key = create_key(session, tenant, ["events:write", "messages:read", "admin"], "demo")
        password = secrets.token_urlsafe(12)
        create_user(
            session, tenant.id, DEMO_OWNER_PHONE, "Demo owner", "owner", password, utcnow(), "ru"
        )
        session.commit()
        _private_file("demo_key", key)
        _private_file("demo_owner", f"phone: {DEMO_OWNER_PHONE}\npassword: {password}\n")
    engine.dispose()
    return {"name": DEMO_TENANT, "key": key, "phone": DEMO_OWNER_PHONE, "password": password}
