"""Single sign-on links: a connector's settings page (Bitrix24 app, amoCRM settings, the
WordPress plugin) asks the relay — with the tenant's admin API key — for a link that opens the
cabinet without a second password. The link is signed (itsdangerous), lives 2 minutes and
works once; it signs in the tenant's platform user (a manager, see `platform_user`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.people.users import PLATFORM_NAMES, platform_user
from relay.storage.models import Tenant, User

VALID_FOR = timedelta(minutes=2)
SALT = "relay-cabinet-sso"
PLATFORMS = tuple(PLATFORM_NAMES)
_USED = "relay:sso:used:"


def _serializer(secret: str, now: datetime) -> URLSafeTimedSerializer:
    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:  # the relay's clock, so tests can move time
            return int(now.timestamp())

    return URLSafeTimedSerializer(secret, salt=SALT, signer=_Signer)


def issue_link(
    config: dict[str, Any], tenant: Tenant, platform: str, now: datetime
) -> dict[str, Any]:
    """A link for `tenant` from `platform`: {"url", "expires_at", "expires_in"}."""
    if platform not in PLATFORMS:
        raise RelayError(
            "invalid_platform",
            f"platform must be one of {list(PLATFORMS)}",
            422,
            {"platform": [f"one of {list(PLATFORMS)}"]},
        )
    if tenant.status != "active":
        raise RelayError("tenant_disabled", "this tenant is disabled", 403)
    token = _serializer(config["SECRET_KEY"], now).dumps(
        {"t": tenant.id, "p": platform, "j": secrets.token_hex(12)}
    )
    base = str(config["PUBLIC_URL"]).rstrip("/")
    return {
        "url": f"{base}/cabinet/sso?token={quote(token)}",
        "expires_at": (now + VALID_FOR).isoformat(),
        "expires_in": int(VALID_FOR.total_seconds()),
    }


def redeem_link(rt: Any, session: Session, token: str | None, now: datetime) -> User:
    """The user a valid, unused, unexpired token signs in; RelayError `sso_invalid` (400)
    otherwise (expired, forged or used — the page says which)."""
    try:
        data = _serializer(rt.config["SECRET_KEY"], now).loads(
            token or "", max_age=int(VALID_FOR.total_seconds())
        )
    except SignatureExpired as exc:
        raise RelayError("sso_expired", "this sign-in link has expired", 400) from exc
    except BadSignature as exc:
        raise RelayError("sso_invalid", "this sign-in link is not valid", 400) from exc
    if not isinstance(data, dict) or data.get("p") not in PLATFORMS:
        raise RelayError("sso_invalid", "this sign-in link is not valid", 400)
    # single use: the first redemption claims the token id for longer than the link lives
    claimed = rt.redis.set(
        _USED + str(data.get("j")), 1, nx=True, ex=int(VALID_FOR.total_seconds()) * 3
    )
    if not claimed:
        raise RelayError("sso_used", "this sign-in link was already used", 400)
    tenant = session.get(Tenant, data.get("t"))
    if tenant is None or tenant.status != "active":
        raise RelayError("sso_invalid", "this sign-in link is not valid", 400)
    user = platform_user(session, tenant.id, data["p"], now)
    if user.status != "active":
        raise RelayError("sso_invalid", "this sign-in link is not valid", 400)
    user.last_login_at = now
    return user
