"""Rate limits on every public route (flask-limiter on the relay's Redis), so no one caller can
starve the others (docs/security.md, 'Rate limits').

Who is counted, and against which limit:

- a request with a **tenant API key**: that key, `RELAY_RATE_LIMIT_PER_KEY` (default
  50/second) or the tenant's own `api_rate_limit` setting (set by the operator:
  `PATCH /v1/tenants/<id>` `{"settings": {"api_rate_limit": "200/second"}}`);
- the **operator token**: one bucket, the per-key default;
- **webhooks and gateway callbacks** (`/connectors/…`, `/callbacks/…`): per store or gateway
  (the gateway's name, amoCRM's account, WooCommerce's store URL, else the sender's address),
  `RELAY_RATE_LIMIT_WEBHOOK` (default 500/second: a busy store is never refused);
- anything else (no key, or a key that is not one): per client address,
  `RELAY_RATE_LIMIT_PER_IP` (default 20/second).

All routes share a caller's bucket (application-wide limits). `GET /healthz` is exempt. Over
the limit: 429 `too_many_requests` in the one error shape, with `Retry-After` (seconds). If
Redis is unreachable the limiter lets requests through (health checks report Redis).
"""

from __future__ import annotations

import hmac
import math
import time
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RequestLimit

from relay.adapters.redis_conn import redis_client
from relay.api.http import error_response
from relay.api.spool_http import REPLAY_ENVIRON_KEY
from relay.tenancy.tenants import authenticate

EXEMPT = ("/healthz",)
WEBHOOK_PREFIXES = ("/callbacks/", "/connectors/")


def _webhook_caller() -> str:
    parts = request.path.split("/")
    if parts[1] == "callbacks" and len(parts) > 2:
        return f"hook:gateway:{parts[2]}"
    platform = parts[2] if len(parts) > 2 else "?"
    if platform == "amocrm" and len(parts) > 4 and parts[3] == "webhook":
        return f"hook:amocrm:{parts[4]}"
    store = request.headers.get("X-WC-Webhook-Source")
    if platform == "woocommerce" and store:
        return f"hook:woocommerce:{store[:200]}"
    return f"hook:{platform}:{request.remote_addr}"


def _caller() -> tuple[str, str]:
    """(bucket, limit) of this request; computed once per request."""
    found = g.get("rate_caller")
    if found is not None:
        return found  # type: ignore[no-any-return]
    cfg = _config()
    if request.path.startswith(WEBHOOK_PREFIXES):
        found = (_webhook_caller(), str(cfg["RATE_LIMIT_WEBHOOK"]))
    else:
        found = (f"ip:{request.remote_addr}", str(cfg["RATE_LIMIT_PER_IP"]))
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            admin = cfg.get("ADMIN_TOKEN")
            if admin and hmac.compare_digest(token.encode(), str(admin).encode()):
                found = ("operator", str(cfg["RATE_LIMIT_PER_KEY"]))
            else:
                auth = authenticate(g.db, token)
                if auth is not None:
                    tenant, key = auth
                    own = (tenant.settings or {}).get("api_rate_limit")
                    found = (f"key:{key.id}", str(own or cfg["RATE_LIMIT_PER_KEY"]))
    g.rate_caller = found
    return found


def _config() -> dict[str, Any]:
    from flask import current_app

    return current_app.config["RELAY"]  # type: ignore[no-any-return]


def _too_many(limit: RequestLimit) -> Response:
    retry_after = max(1, math.ceil(limit.window[0] - time.time()))
    response = error_response(
        "too_many_requests",
        f"too many requests: at most {limit.limit} for this caller; retry in {retry_after} s",
        429,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def install(app: Flask) -> Limiter:
    """The limiter on `app`, counting in the relay's Redis."""
    limiter = Limiter(
        key_func=lambda: _caller()[0],
        app=app,
        application_limits=[lambda: _caller()[1]],
        # a spooled request sent again by the relay itself was counted when it first came
        application_limits_exempt_when=lambda: (
            request.path in EXEMPT or bool(request.environ.get(REPLAY_ENVIRON_KEY))
        ),
        # the relay's own client: a single server or a Sentinel set, with its timeouts
        storage_uri="redis://",
        storage_options={  # Flask-Limiter types these as str | int; limits takes a pool
            "connection_pool": redis_client(  # type: ignore[dict-item]
                app.config["RELAY"]["REDIS_URL"]
            ).connection_pool
        },
        strategy="fixed-window",
        headers_enabled=False,
        swallow_errors=True,
        on_breach=_too_many,
    )
    return limiter
