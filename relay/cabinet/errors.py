"""Error pages of the cabinet: every error under /cabinet is an HTML page with its status; the
JSON API keeps its JSON errors. The app-wide handlers of relay/api/errors.py are wrapped so
they choose by path (a 404 or 405 under /cabinet is matched by no view, so no blueprint
handler would see it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from relay.errors import RelayError

log = logging.getLogger("relay.cabinet")
PREFIX = "/cabinet"

TITLES = {
    400: _l("The request could not be used"),
    403: _l("You may not do this"),
    404: _l("Page not found"),
    405: _l("This page cannot be used that way"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}
TEXTS = {
    400: _l("Go back, check what you entered and try again."),
    403: _l("Your role in this store does not allow this. Ask an owner of the store."),
    404: _l("There is nothing here, or it belongs to another store."),
    405: _l("Go back and use the page's own buttons."),
    413: _l("Choose a smaller file and try again."),
    429: _l("Wait a little and try again."),
    500: _l("The error was logged. Try again in a moment."),
}
CSRF_TEXT = _l(
    "The form was not sent from this page or it is too old. Go back, reload the page and "
    "send the form again."
)


def in_cabinet() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error_page(status: int, detail: Any = None) -> tuple[str, int]:
    """The HTML page for an error status."""
    status = status if status in TITLES else (500 if status >= 500 else 400)
    try:
        body = render_template(
            "cabinet/error.html",
            status=status,
            title=TITLES[status],
            text=detail or TEXTS[status],
        )
    except Exception:  # the page must never fail: fall back to plain HTML
        log.exception("error page failed")
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    return body, status


def _for_http(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    if status == 400 and exc.description == "csrf":
        return error_page(400, CSRF_TEXT)
    return error_page(status)


def _for_relay(exc: RelayError) -> tuple[str, int]:
    from relay.cabinet.texts import error_text

    return error_page(exc.status, error_text(exc))


def _for_unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unhandled error in the cabinet")
    session = g.get("db")
    if session is not None:
        session.rollback()
    return error_page(500)


def install_error_pages(app: Flask) -> None:
    """Wrap the app's JSON handlers: under /cabinet they render the HTML pages instead."""
    spec = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    chooser: dict[type, Callable[[Any], Any]] = {
        HTTPException: _for_http,
        RelayError: _for_relay,
        Exception: _for_unexpected,
    }
    for exc_type, html in chooser.items():
        json_handler = spec.get(exc_type)

        def handler(
            exc: Any,
            _html: Callable[[Any], Any] = html,
            _json: Callable[[Any], Any] | None = json_handler,
        ) -> Any:
            if in_cabinet() or _json is None:
                return _html(exc)
            return _json(exc)

        app.register_error_handler(exc_type, handler)
