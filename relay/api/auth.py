"""Bearer-key authentication for tenants and the operator token for tenant management."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from relay.errors import RelayError
from relay.tenancy.tenants import authenticate


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RelayError("unauthorized", "send the API key as 'Authorization: Bearer <key>'", 401)
    return token.strip()


def require_scope(scope: str) -> Callable:
    """Decorator: the request must carry a live key of some tenant with `scope` (or admin)."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            token = _bearer()
            session = g.db
            found = authenticate(session, token)
            if found is None:
                raise RelayError("invalid_api_key", "the API key is unknown or revoked", 401)
            tenant, key = found
            if scope not in key.scopes and "admin" not in key.scopes:
                raise RelayError("insufficient_scope", f"this key lacks the {scope!r} scope", 403)
            g.tenant, g.api_key = tenant, key
            return view(*args, **kwargs)

        return inner

    return wrap


def require_operator(view: Callable) -> Callable:
    """Decorator: the request must carry RELAY_ADMIN_TOKEN (compared in constant time)."""

    @wraps(view)
    def inner(*args: Any, **kwargs: Any) -> Any:
        expected = current_app.config.get("RELAY", {}).get("ADMIN_TOKEN")
        if not expected:
            raise RelayError(
                "operator_api_disabled", "set RELAY_ADMIN_TOKEN to use the operator API", 403
            )
        if not hmac.compare_digest(_bearer().encode(), str(expected).encode()):
            raise RelayError("invalid_admin_token", "the operator token is wrong", 401)
        g.operator = True
        return view(*args, **kwargs)

    return inner
