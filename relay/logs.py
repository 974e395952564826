"""Structured (JSON-lines) logs with phone numbers masked, and Sentry set-up.

Masking happens in a logging filter and in Sentry's before_send, so no code path can leak a
full number by forgetting to mask it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from shared.phones import mask_phones_in_text

if TYPE_CHECKING:  # sentry-sdk defines its event types for type checkers only
    from sentry_sdk._types import Event, Hint

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return mask_phones_in_text(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO") -> None:
    """Send JSON logs to stderr (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 at DEBUG logs full request URLs, and some OAuth refreshes (Bitrix24's) are GETs
    # carrying the refresh token: never let it below INFO
    logging.getLogger("urllib3").setLevel(max(logging.getLevelName(level) if isinstance(
        level, str) else level, logging.INFO))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones_in_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def scrub_sentry_event(event: Event, _hint: Hint) -> Event:
    """Sentry before_send hook: mask phone numbers everywhere in the event; the web cabinet's
    forms (passwords, verification codes) and cookies are never sent at all."""
    request = event.get("request")
    if isinstance(request, dict) and "/cabinet" in str(request.get("url") or ""):
        request = dict(request)
        for key in ("data", "cookies"):
            if key in request:
                request[key] = "[withheld]"
        if isinstance(request.get("headers"), dict):
            request["headers"] = {
                k: ("[withheld]" if k.lower() == "cookie" else v)
                for k, v in request["headers"].items()
            }
        event = cast("Event", {**event, "request": request})
    return cast("Event", _scrub(event))  # the same keys, every string masked


def setup_sentry(dsn: str | None, component: str) -> bool:
    """Initialise sentry-sdk with the Flask and RQ integrations when a DSN is configured."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration(), RqIntegration()],
        before_send=scrub_sentry_event,
        server_name=component,
    )
    return True
