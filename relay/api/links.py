"""GET /l/<token>: a short link's redirect (public: the recipient has no key).

302 to the stored target only, never to anything taken from the request; an unknown or
expired token is a plain 404 page (a person's browser shows it, not a JSON client). The click
is queued on Redis in the same script call that reads the link there, and persisted by the
worker (relay/growth/clicks.py), so recording it never waits on the database; a failure to
queue it never stops the redirect. The route is on the
rate limiter's per-address bucket like any unauthenticated caller.
"""

from __future__ import annotations

import logging

from flask import Response, redirect, request
from flask.typing import ResponseReturnValue

from relay.api.http import blueprint, db, runtime
from relay.api.spec import documented
from relay.growth.clicks import ClickRecorder, client_key, coarse_agent
from relay.growth.links import resolve, valid_token

log = logging.getLogger("relay.links")
bp = blueprint("links", __name__, url_prefix="")

NOT_FOUND_PAGE = (
    '<!doctype html><html lang="ru"><meta charset="utf-8"><title>404</title>'
    "<p>Ссылка не найдена или устарела. / This link is unknown or has expired.</p></html>"
)
_recorders: dict[int, ClickRecorder] = {}


def _recorder() -> ClickRecorder:
    rt = runtime()
    found = _recorders.get(id(rt.redis))
    if found is None:
        found = _recorders[id(rt.redis)] = ClickRecorder(rt.redis)
    return found


def _not_found() -> Response:
    return Response(NOT_FOUND_PAGE, status=404, mimetype="text/html")


@bp.get("/l/<path:token>")
@documented(
    "Follow a short link: 302 to its target, 404 page when unknown or expired",
    tags=("links",),
    status=302,
    produces="text/html",
)
def follow(token: str) -> ResponseReturnValue:
    """Redirect and queue the click (counted once per client and minute)."""
    if not valid_token(token):
        return _not_found()
    rt = runtime()
    now = rt.now()
    client = client_key(str(rt.config["SECRET_KEY"]), request.remote_addr)
    agent = coarse_agent(request.user_agent.string)
    recorder = _recorder()
    target: str | None = None
    try:
        target = recorder.follow(token, client, agent, now)
    except Exception as exc:  # Redis down: the database still knows the link
        log.warning("link not read from Redis: %s", type(exc).__name__)
    if target is None:
        found = resolve(db(), token, now)
        if found is None:
            return _not_found()
        link, expires_at = found
        target = link.target
        try:
            recorder.remember_and_follow(token, link, expires_at, client, agent, now)
        except Exception as exc:  # the person still gets where they clicked
            log.warning("click not recorded: %s", type(exc).__name__)
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
