"""Login sessions, CSRF tokens and roles of the cabinet.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure when RELAY_PUBLIC_URL is
https) holding the user id, the user's session version and two times: when the user signed
in (absolute expiry) and when they were last seen (idle expiry), both on the relay's clock.
Raising the user's session version ("sign out everywhere", a role change, a password reset)
ends every session at its next request. Every form carries a CSRF token that is compared in
constant time with the session's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from relay.people.users import may, session_user

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
LOGIN_KEYS = ("uid", "ver", "iat", "seen")


def rt() -> Any:
    return current_app.extensions["relay"]


def now_epoch() -> float:
    stamp: float = rt().now().timestamp()
    return stamp


def idle_limit() -> timedelta:
    return timedelta(minutes=int(rt().config.get("CABINET_IDLE_MINUTES") or 60))


def absolute_limit() -> timedelta:
    return timedelta(hours=int(rt().config.get("CABINET_SESSION_HOURS") or 12))


def session_secret(secret_key: str) -> str:
    """The cookie-signing key, derived from RELAY_SECRET_KEY for this purpose only."""
    return hmac.new(secret_key.encode(), b"relay-cabinet-session", hashlib.sha256).hexdigest()


def configure_cookies(app: Any, config: dict[str, Any]) -> None:
    app.secret_key = session_secret(config["SECRET_KEY"])
    app.config.update(
        SESSION_COOKIE_NAME="relay_cabinet",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=str(config.get("PUBLIC_URL", "")).startswith("https://"),
        SESSION_COOKIE_PATH="/cabinet",
        PERMANENT_SESSION_LIFETIME=absolute_limit_for(config),
    )


def absolute_limit_for(config: dict[str, Any]) -> timedelta:
    return timedelta(hours=int(config.get("CABINET_SESSION_HOURS") or 12))


# ---- CSRF -----------------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """400 unless an unsafe request carries the session's token (form field or header)."""
    if request.method not in UNSAFE:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf")
    if (
        not isinstance(expected, str)
        or not expected
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        abort(400, description="csrf")


# ---- login sessions -------------------------------------------------------------------------


def log_in(user: Any) -> None:
    """Start a login session for `user` (a new CSRF token too: no fixation across a login)."""
    keep_lang = session.get("lang")
    session.clear()
    session.permanent = True
    at = now_epoch()
    session.update(uid=user.id, ver=user.session_version, iat=at, seen=at)
    if keep_lang:
        session["lang"] = keep_lang
    csrf_token()


def log_out(keep_csrf: bool = False) -> None:
    """End the login session; the language stays, and the CSRF token when the session ran
    out (so the form the user just sent still reaches the sign-in page, not a 400)."""
    keep = {k: session[k] for k in ("lang", *(("csrf",) if keep_csrf else ())) if k in session}
    session.clear()
    session.update(keep)


def load_login() -> str | None:
    """Put the signed-in user and tenant on `g`; returns why a session ended, if it did:
    "expired" (idle or absolute limit), "ended" (signed out elsewhere, role changed, user
    or tenant disabled), or None (no session, or a live one)."""
    g.user = g.tenant = None
    if "uid" not in session:
        return None
    at = now_epoch()
    iat, seen = session.get("iat"), session.get("seen")
    if not isinstance(iat, int | float) or not isinstance(seen, int | float):
        log_out(keep_csrf=True)
        return "ended"
    if at - iat > absolute_limit().total_seconds() or at - seen > idle_limit().total_seconds():
        log_out(keep_csrf=True)
        return "expired"
    found = session_user(g.db, session.get("uid"), session.get("ver"))
    if found is None:
        log_out(keep_csrf=True)
        return "ended"
    g.user, g.tenant = found
    session["seen"] = at
    return None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed-in users only; others go to the sign-in page (with why, when a session ended)."""

    @wraps(view)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            ended = g.get("session_ended")
            if ended == "expired":
                flash(  # a LazyString: the session keeps it as Markup
                    _l("Your session has expired. Please sign in again."),  # type: ignore[arg-type]
                    "warning",
                )
            elif ended == "ended":
                flash(  # a LazyString: the session keeps it as Markup
                    _l("You were signed out. Please sign in again."),  # type: ignore[arg-type]
                    "warning",
                )
            nxt = request.full_path if request.method == "GET" else None
            return redirect(url_for("cabinet.signin", next=_safe_next(nxt)))
        return view(*args, **kwargs)

    return inner


def role_required(needed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for views of a role and above (owner > manager > viewer): 403 page below it."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @login_required
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not may(g.user.role, needed):
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def can(needed: str) -> bool:
    """For templates: may the signed-in user do what `needed` may?"""
    user = g.get("user")
    return user is not None and may(user.role, needed)


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the cabinet (never another host) is a place to come back to."""
    if not target:
        return None
    target = target.rstrip("?")
    if target.startswith("/cabinet") and not target.startswith("//") and "\\" not in target:
        return target
    return None


safe_next = _safe_next


def client_ip() -> str | None:
    """The visitor's address for the per-IP limits: behind RELAY_PROXY_HOPS trusted proxies
    (a TLS-terminating proxy is 1), the address the nearest of them saw in X-Forwarded-For."""
    hops = int(rt().config.get("PROXY_HOPS") or 0)
    route = request.access_route  # X-Forwarded-For entries, then the peer (werkzeug)
    if hops <= 0 or not request.headers.get("X-Forwarded-For"):
        return request.remote_addr
    forwarded = [a.strip() for a in request.headers["X-Forwarded-For"].split(",") if a.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else (route[0] if route else None)
