"""GET /l/<token>: a short link's redirect (public: the recipient has no key).

302 to the stored target only, never to anything taken from the request; an unknown or
expired token is a plain 404 page (a person's browser shows it, not a JSON client). The click
is queued on Redis and persisted by the worker (relay/growth/clicks.py), so recording it never
waits on the database; a failure to queue it never stops the redirect. The route is on the
rate limiter's per-address bucket like any unauthenticated caller.
"""

from __future__ import annotations

import logging
import time

from flask import Response, redirect, request
from flask.typing import ResponseReturnValue

from relay.api.http import blueprint, db, runtime
from relay.api.spec import documented
from relay.growth.clicks import ClickRecorder, client_key, coarse_agent
from relay.growth.links import Target, resolve

log = logging.getLogger("relay.links")
bp = blueprint("links", __name__, url_prefix="")

NOT_FOUND_PAGE = (
    '<!doctype html><html lang="ru"><meta charset="utf-8"><title>404</title>'
    "<p>Ссылка не найдена или устарела. / This link is unknown or has expired.</p></html>"
)
_CACHE_SECONDS = 60.0
_CACHE_SIZE = 10000
# token → (target, until): a link never changes; an expiry or erasure is seen within a minute
_cache: dict[str, tuple[Target | None, float]] = {}
_recorders: dict[int, ClickRecorder] = {}


def _lookup(token: str) -> Target | None:
    hit = _cache.get(token)
    mono = time.monotonic()
    if hit is not None and hit[1] > mono:
        return hit[0]
    found = resolve(db(), token, runtime().now())
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[token] = (found, mono + _CACHE_SECONDS)
    return found


def _recorder() -> ClickRecorder:
    rt = runtime()
    found = _recorders.get(id(rt.redis))
    if found is None:
        found = _recorders[id(rt.redis)] = ClickRecorder(rt.redis)
    return found


@bp.get("/l/<path:token>")
@documented(
    "Follow a short link: 302 to its target, 404 page when unknown or expired",
    tags=("links",),
    status=302,
    produces="text/html",
)
def follow(token: str) -> ResponseReturnValue:
    """Redirect and queue the click (counted once per client and minute)."""
    target = _lookup(token)
    if target is None:
        return Response(NOT_FOUND_PAGE, status=404, mimetype="text/html")
    rt = runtime()
    try:
        _recorder().record(
            token,
            target,
            client_key(str(rt.config["SECRET_KEY"]), request.remote_addr),
            coarse_agent(request.user_agent.string),
            rt.now(),
        )
    except Exception as exc:  # Redis down: the person still gets where they clicked
        log.warning("click not recorded: %s", type(exc).__name__)
    response = redirect(target.target, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
