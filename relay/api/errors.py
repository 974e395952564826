"""Every error leaves the API as the one JSON shape, never an HTML page or a stack trace.

The shape is in docs/architecture.md, 'API'.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from relay.errors import RelayError

log = logging.getLogger("relay.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def error_response(code: str, message: str, status: int, fields: dict[str, Any] | None = None):
    """A JSON error response."""
    resp = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    resp.status_code = status
    return resp


def register_error_handlers(app: Flask) -> None:
    """Map RelayError, HTTP errors and anything unexpected to JSON."""

    @app.errorhandler(RelayError)
    def _relay_error(exc: RelayError):  # type: ignore[no-untyped-def]
        return error_response(exc.code, exc.message, exc.status, exc.fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"the body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        return error_response(HTTP_CODES.get(status, "http_error"), message, status)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        # our fault, not the client's: log it (Sentry picks it up) and answer without details
        log.exception("unhandled error")
        return error_response("internal_error", "the relay failed; the error was logged", 500)
