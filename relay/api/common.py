"""Helpers shared by the blueprints: the runtime, the session, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request

from relay.errors import RelayError
from relay.runtime import Runtime


def runtime() -> Runtime:
    """The app's runtime."""
    return current_app.extensions["relay"]


def json_body() -> Any:
    """The request body parsed as JSON; RelayError `malformed_json` when it is not."""
    raw = request.get_data(cache=True)
    if not raw:
        raise RelayError("empty_body", "the request body is empty; send a JSON object", 400)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RelayError("malformed_json", f"the body is not valid JSON: {exc}", 400) from exc


def json_object() -> dict[str, Any]:
    """The body as a JSON object."""
    body = json_body()
    if not isinstance(body, dict):
        raise RelayError("invalid_body", "the body must be a JSON object", 400)
    return body


def db():  # type: ignore[no-untyped-def]
    """The request's database session."""
    return g.db
