"""Who may call which endpoint: relay admin keys, the signed OAuth state, widget tokens.

- Install start and the settings API accept a relay API key with the `admin` scope
  (`Authorization: Bearer <key>`, checked by `ctx.authenticate`).
- The OAuth `state` is signed and time-stamped with itsdangerous (HMAC-SHA1 over the payload,
  verified in constant time), so a redirect can only complete an install a relay admin began.
- The settings API also accepts amoCRM's one-time widget token (`X-Auth-Token`, a JWT signed
  HS256 with the integration's client secret; claims iss, aud, jti, iat, nbf, exp, account_id,
  user_id — amoCRM "One-time tokens for integrations"). Verified here with hmac: no JWT
  library is needed for one fixed algorithm.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from flask import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import HttpError
from shared.connector import ConnectorContext

STATE_SALT = "relay.connectors.amocrm.oauth-state"
JWT_LEEWAY = 30  # seconds of clock difference tolerated on nbf/exp


def bearer_key(request: Request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


def admin_tenant(ctx: ConnectorContext, request: Request) -> str:
    """The tenant of a relay admin key, or HttpError 401."""
    key = bearer_key(request)
    tenant_id = ctx.authenticate(key) if key else None
    if not tenant_id:
        raise HttpError(
            "unauthorized", "send a relay API key with the admin scope as a Bearer token", 401
        )
    return tenant_id


def _serializer(config: AmoConfig) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config.state_secret, salt=STATE_SALT)


def make_state(config: AmoConfig, tenant_id: str) -> str:
    """A signed, time-stamped state naming the tenant the install is for."""
    return _serializer(config).dumps({"tenant": tenant_id})


def read_state(config: AmoConfig, state: str) -> str:
    """The tenant id from a state; HttpError 400 when forged, garbled or expired."""
    try:
        data = _serializer(config).loads(state, max_age=config.state_max_age)
    except SignatureExpired:
        raise HttpError(
            "state_expired",
            "the install link expired: start the install again",
            400,
            {"state": ["expired"]},
        ) from None
    except BadSignature:
        raise HttpError(
            "invalid_state",
            "the state was not issued by this relay",
            400,
            {"state": ["bad signature"]},
        ) from None
    tenant = data.get("tenant") if isinstance(data, dict) else None
    if not isinstance(tenant, str) or not tenant:
        raise HttpError("invalid_state", "the state names no tenant", 400, {"state": ["empty"]})
    return tenant


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_widget_token(config: AmoConfig, token: str, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid amoCRM one-time token; HttpError 401 otherwise."""
    refused = HttpError("invalid_widget_token", "the widget token is not valid", 401)
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_b64(head_b64))
        claims = json.loads(_b64(body_b64))
        signature = _b64(sig_b64)
    except (ValueError, TypeError):  # wrong shape, bad base64 or JSON
        raise refused from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise refused  # never accept "none" or another algorithm
    signed = f"{head_b64}.{body_b64}".encode("ascii")
    expected = hmac.new(config.client_secret.encode(), signed, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise refused
    moment = time.time() if now is None else now
    try:
        exp, nbf = float(claims["exp"]), float(claims.get("nbf", 0))
    except (KeyError, TypeError, ValueError):
        raise refused from None
    if exp + JWT_LEEWAY < moment or nbf - JWT_LEEWAY > moment:
        raise HttpError("widget_token_expired", "the widget token has expired", 401)
    return claims
