"""Structured (JSON-lines) logs with phone numbers masked, and Sentry set-up.

Masking happens in the formatter, in the access logs (gunicorn's through
`relay.access_log.MaskedAccessLogger`, the development server's through `AccessLineFilter`) and
in Sentry's before_send, so no code path can leak a full number, a message text or a callback
token by forgetting to mask it (docs/security.md, 'No personal data in any log').

`safe_url` is the one rule for URLs: secrets in the path (a gateway's callback token, a
webhook secret) become `***`; of the query string only the values of SAFE_QUERY_KEYS stay
(limits, cursors, statuses: no person in them), every other value becomes `-` (a text, a
name, a search, a phone); phone-like digit runs anywhere are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from shared.phones import mask_phones_in_text

if TYPE_CHECKING:  # sentry-sdk defines its event types for type checkers only
    from sentry_sdk._types import Event, Hint

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))

# query parameters whose values never hold a person's data: kept in access logs
SAFE_QUERY_KEYS = frozenset(
    {
        "limit",
        "cursor",
        "status",
        "channel",
        "category",
        "format",
        "from",
        "to",
        "version",
        "action",
        "kind",
        "reason",
        "period",
        "group_by",
        "dry_run",
        "archived",
        "type",
        "dlr-status",
        "status_code",
    }
)
# path segments that are secrets: (prefix pattern, index of the secret segment)
_SECRET_PATHS = (
    (re.compile(r"^/callbacks/[^/]+/[^/]+(/|$)"), 2),  # /callbacks/<name>/<token>/dlr
    (re.compile(r"^/connectors/amocrm/webhook/[^/]+/[^/]+"), 4),  # …/webhook/<account>/<secret>
)


def safe_path(path: str) -> str:
    """A URL path without secret segments and with phone numbers masked."""
    for pattern, index in _SECRET_PATHS:
        if pattern.match(path):
            parts = path.split("/")
            if len(parts) > index + 1:
                parts[index + 1] = "***"
            path = "/".join(parts)
    return mask_phones_in_text(unquote(path))


def safe_query(query: str) -> str:
    """A query string keeping only SAFE_QUERY_KEYS' values (masked); every other value `-`."""
    if not query:
        return ""
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        shown = mask_phones_in_text(value) if key.lower() in SAFE_QUERY_KEYS else "-"
        pairs.append(f"{quote(mask_phones_in_text(key), safe='')}={quote(shown, safe='*:+-')}")
    return "&".join(pairs)


def safe_url(url: str) -> str:
    """A path with its query string (or a full URL) as it may appear in a log."""
    parts = urlsplit(url)
    query = safe_query(parts.query)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return f"{origin}{safe_path(parts.path)}{'?' + query if query else ''}"


# a URL's query string inside free text (an exception naming the URL it failed on): gateways
# such as Kannel, SMS.ru and SMSC take their credentials as query parameters
_QUERY_IN_TEXT = re.compile(r"\?([^\s'\"<>()\[\]]+)")


def scrub_text(text: str) -> str:
    """Free text (a message, an exception) with every query string made safe (`safe_query`:
    credentials and personal values become `-`) and phone numbers masked."""
    return mask_phones_in_text(_QUERY_IN_TEXT.sub(lambda m: "?" + safe_query(m.group(1)), text))


_REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+)(?P<rest> HTTP/[\d.]+)?$")


def safe_request_line(line: str) -> str:
    """`GET /path?query HTTP/1.1` with the target made safe (anything else: masked text)."""
    found = _REQUEST_LINE.match(line)
    if not found:
        return mask_phones_in_text(line)
    return f"{found['method']} {safe_url(found['target'])}{found['rest'] or ''}"


class AccessLineFilter(logging.Filter):
    """The development server's (werkzeug's) access lines: `"%s" %s %s` with the request line
    first; the line is made safe before it is formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            record.args = (safe_request_line(args[0]), *args[1:])
        elif isinstance(record.msg, str):
            record.msg = mask_phones_in_text(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = scrub_text(self.formatException(record.exc_info))
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
    werkzeug = logging.getLogger("werkzeug")  # `flask run` / the dev server's access lines
    if not any(isinstance(f, AccessLineFilter) for f in werkzeug.filters):
        werkzeug.addFilter(AccessLineFilter())
    # urllib3 at DEBUG logs full request URLs, and some OAuth refreshes (Bitrix24's) are GETs
    # carrying the refresh token: never let it below INFO
    logging.getLogger("urllib3").setLevel(
        max(logging.getLevelName(level) if isinstance(level, str) else level, logging.INFO)
    )


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones_in_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


_SECRET_HEADERS = ("authorization", "x-auth-token", "cookie", "x-wc-webhook-signature")


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request of a Sentry event: no body (texts, phones, consents), a safe URL and query,
    no credentials in headers or cookies."""
    request = dict(request)
    if "data" in request:
        request["data"] = "[Filtered]"
    if isinstance(request.get("url"), str):
        request["url"] = safe_url(request["url"])
    if isinstance(request.get("query_string"), str):
        request["query_string"] = safe_query(request["query_string"])
    elif request.get("query_string"):
        request["query_string"] = "[Filtered]"
    if request.get("cookies"):
        request["cookies"] = "[Filtered]"
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {
            k: ("[Filtered]" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()
        }
    env = request.get("env")
    if isinstance(env, dict):
        request["env"] = {k: v for k, v in env.items() if k in ("SERVER_NAME", "SERVER_PORT")}
    return request


def scrub_sentry_event(event: Event, _hint: Hint) -> Event:
    """Sentry before_send hook: no request body (the cabinet's passwords and codes included),
    safe URLs (no tokens, no query values but the harmless ones), no credentials or cookies, and
    phone numbers masked everywhere in the event."""
    request = event.get("request")
    if isinstance(request, dict):
        event = cast("Event", {**event, "request": _scrub_request(dict(request))})
    crumbs: Any = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else None
    if isinstance(values, list):
        cleaned = []
        for crumb in values:
            data = crumb.get("data") if isinstance(crumb, dict) else None
            if isinstance(data, dict) and isinstance(data.get("url"), str):
                crumb = {**crumb, "data": {**data, "url": safe_url(data["url"])}}
            cleaned.append(crumb)
        event = cast("Event", {**event, "breadcrumbs": {**crumbs, "values": cleaned}})
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
        before_send_transaction=scrub_sentry_event,
        server_name=component,
    )
    return True
