"""Rate limits on every public route, counted in the relay's Redis, so no one caller can starve
the others (docs/security.md, 'Rate limits').

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

How it counts: fixed windows aligned on the clock (a window of one minute runs from one full
minute to the next), one Redis counter per caller, limit and window, shared by every process
and host. A process does not ask Redis for every request: it takes hits from the shared
counter in blocks (`SharedWindows.block`) and hands them out locally, one Redis round trip per
block. The shared counter never admits more than the limit in a window; hits a process took
and did not use before the window ended are lost to the others, so a caller near its limit may
be refused up to `block - 1` requests per serving process early. Blocks are small: about 1 %
of the limit (a limit under 200 per window counts every hit in Redis, exactly as before), and
one hit at a time once half the window's limit is taken.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many
from redis import Redis
from redis.exceptions import RedisError

from relay.adapters.redis_conn import redis_client
from relay.api.http import error_response
from relay.api.spool_http import REPLAY_ENVIRON_KEY
from relay.tenancy.tenants import authenticate

log = logging.getLogger("relay.api")

EXEMPT = ("/healthz",)
WEBHOOK_PREFIXES = ("/callbacks/", "/connectors/")
EXTENSION = "relay.ratelimit"
KEY_PREFIX = "relay:rate"
MAX_BLOCK = 32  # hits one process takes from a shared counter at a time, at most
BLOCK_SHARE = 100  # a block is at most 1/BLOCK_SHARE of the limit
MAX_LOCAL_WINDOWS = 50_000  # callers' windows a process remembers; forgotten all at once beyond
_WARN_EVERY_SECONDS = 60.0


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
    """(bucket, limit) of this request."""
    cfg = current_app.config["RELAY"]
    if request.path.startswith(WEBHOOK_PREFIXES):
        return _webhook_caller(), str(cfg["RATE_LIMIT_WEBHOOK"])
    found = (f"ip:{request.remote_addr}", str(cfg["RATE_LIMIT_PER_IP"]))
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        admin = cfg.get("ADMIN_TOKEN")
        if admin and hmac.compare_digest(token.encode(), str(admin).encode()):
            found = ("operator", str(cfg["RATE_LIMIT_PER_KEY"]))
        else:
            # cached per process (relay/tenancy/tenants.py): no database round trip per request
            auth = authenticate(g.db, token)
            if auth is not None:
                tenant, key = auth
                own = (tenant.settings or {}).get("api_rate_limit")
                found = (f"key:{key.id}", str(own or cfg["RATE_LIMIT_PER_KEY"]))
    return found


@lru_cache(maxsize=256)
def parsed_limits(text: str) -> tuple[RateLimitItem, ...]:
    """The limits of a setting such as "50/second" or "10/second;500/minute"; none for a text
    that is not one (settings are validated when written: this only keeps a typo in the
    environment from refusing every request)."""
    try:
        return tuple(parse_many(text))
    except ValueError:
        log.error("rate limit %r is not a rate such as '50/second': not enforced", text)
        return ()


@dataclass(slots=True)
class _Local:
    """What this process holds of one caller's window: hits taken and not yet handed out, and
    the shared count Redis last answered."""

    window: int
    left: int
    seen: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """The limit a request is over, and when its window ends (epoch seconds)."""

    limit: RateLimitItem
    reset_at: float


class SharedWindows:
    """Fixed-window counters in Redis, taken in blocks by each process (module docstring)."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.clock = clock
        self._lock = threading.Lock()
        self._local: dict[tuple[str, str], _Local] = {}
        self._warned_at = -math.inf

    @staticmethod
    def block(limit: RateLimitItem, seen: int) -> int:
        """How many hits to ask Redis for when this process has none left."""
        size = min(MAX_BLOCK, limit.amount // BLOCK_SHARE)
        if size <= 1 or seen * 2 >= limit.amount:
            return 1
        return size

    def hit(self, bucket: str, limits: tuple[RateLimitItem, ...]) -> Refusal | None:
        """Count one request of `bucket` against each of `limits`; the first limit it is over,
        or None. Redis failing lets the request through (module docstring)."""
        now = self.clock()
        refill: list[tuple[RateLimitItem, tuple[str, str], int, int]] = []
        with self._lock:
            for limit in limits:
                period = limit.get_expiry()
                window = int(now // period)
                slot = (bucket, str(limit))
                local = self._local.get(slot)
                if local is not None and local.window == window and local.left > 0:
                    local.left -= 1
                    continue
                seen = local.seen if local is not None and local.window == window else 0
                refill.append((limit, slot, window, self.block(limit, seen)))
        if not refill:
            return None
        try:
            counts = self._take(bucket, refill)
        except RedisError:
            if now - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning("rate limiter: Redis unreachable, requests are let through")
            return None
        refused: Refusal | None = None
        with self._lock:
            if len(self._local) > MAX_LOCAL_WINDOWS:
                self._local.clear()
            for (limit, slot, window, asked), count in zip(refill, counts, strict=True):
                # `count` is the shared total after adding `asked`: what fits under the limit
                granted = max(0, min(asked, limit.amount - (count - asked)))
                local = self._local.get(slot)
                if local is not None and local.window == window:
                    # another thread refilled meanwhile: keep what it took as well
                    local.left += max(0, granted - 1)
                    local.seen = max(local.seen, count)
                else:
                    self._local[slot] = _Local(window, max(0, granted - 1), count)
                if granted == 0 and refused is None:
                    refused = Refusal(limit, (window + 1) * limit.get_expiry())
        return refused

    def _take(
        self, bucket: str, refill: list[tuple[RateLimitItem, tuple[str, str], int, int]]
    ) -> list[int]:
        """Add each block to its shared counter, in one round trip; the new totals."""
        pipe = self.redis.pipeline(transaction=False)
        for limit, _slot, window, asked in refill:
            period = limit.get_expiry()
            key = f"{KEY_PREFIX}:{bucket}:{limit.amount}/{period}:{window}"
            pipe.incrby(key, asked)
            # the key names its window: it is useless once the window is over
            pipe.expireat(key, (window + 1) * period + 1)
        answers = pipe.execute()
        return [int(n) for n in answers[0::2]]


def _too_many(refusal: Refusal) -> Response:
    retry_after = max(1, math.ceil(refusal.reset_at - time.time()))
    response = error_response(
        "too_many_requests",
        f"too many requests: at most {refusal.limit} for this caller; retry in {retry_after} s",
        429,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def install(app: Flask) -> SharedWindows:
    """The limiter on `app`, counting in the relay's Redis (a single server or a Sentinel set,
    with the relay's own client timeouts)."""
    windows = SharedWindows(redis_client(app.config["RELAY"]["REDIS_URL"]))
    app.extensions[EXTENSION] = windows

    @app.before_request
    def _limit() -> Response | None:
        # a spooled request sent again by the relay itself was counted when it first came
        if request.path in EXEMPT or request.environ.get(REPLAY_ENVIRON_KEY):
            return None
        bucket, text = _caller()
        limits = parsed_limits(text)
        if not limits:
            return None
        refusal = windows.hit(bucket, limits)
        return None if refusal is None else _too_many(refusal)

    return windows
