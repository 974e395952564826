"""The cabinet's blueprint and how the app factory mounts it (`init_cabinet`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g
from flask_babel import lazy_gettext as _l

from relay.cabinet.errors import in_cabinet, install_error_pages
from relay.cabinet.i18n import init_babel, jinja_helpers
from relay.cabinet.sections import SECTIONS
from relay.cabinet.security import can, check_csrf, configure_cookies, csrf_token, load_login

bp = Blueprint(
    "cabinet",
    __name__,
    url_prefix="/cabinet",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

ROLE_NAMES = {"owner": _l("owner"), "manager": _l("manager"), "viewer": _l("viewer")}
STATUS_NAMES = {
    "draft": _l("draft"),
    "scheduled": _l("scheduled"),
    "running": _l("sending"),
    "paused": _l("paused"),
    "finished": _l("finished"),
    "cancelled": _l("cancelled"),
}


@bp.before_request
def _before() -> None:
    g.session_ended = load_login()
    check_csrf()


@bp.after_request
def _no_store(resp: Any) -> Any:
    # pages carry the store's data and a CSRF token: never cached by browsers or proxies
    if resp.mimetype == "text/html":
        resp.headers["Cache-Control"] = "no-store"
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
    return resp


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    if not in_cabinet():  # the connectors' own pages keep their own names
        return {}
    return {
        "csrf_token": csrf_token,
        "can": can,
        "sections": SECTIONS,
        "role_names": ROLE_NAMES,
        "status_names": STATUS_NAMES,
        **jinja_helpers(),
    }


def init_cabinet(app: Flask, config: dict[str, Any]) -> None:
    """Mount the cabinet: cookies, languages, HTML error pages under /cabinet, the views."""
    import relay.cabinet.views_books  # noqa: F401  (pages2: lists and content)
    import relay.cabinet.views_consent  # noqa: F401
    import relay.cabinet.views_flows  # noqa: F401
    import relay.cabinet.views_greetings  # noqa: F401  (pages1: mailings)
    import relay.cabinet.views_mailings  # noqa: F401
    import relay.cabinet.views_message  # noqa: F401
    import relay.cabinet.views_senders  # noqa: F401
    import relay.cabinet.views_stoplists  # noqa: F401
    import relay.cabinet.views_templates  # noqa: F401
    from relay.cabinet import (  # noqa: F401
        views_account,
        views_detail,
        views_explain,
        views_home,
        views_replies,
        views_results,
        views_sections,
        views_settings,
        views_statistics,
    )

    configure_cookies(app, config)
    init_babel(app)
    install_error_pages(app)
    app.register_blueprint(bp)
