"""What every request passes before a view sees it, so no input can make the relay answer 500.

- **Whole numbers in the path** (`<int:…>`) fit the database's INTEGER column (0 … 2^31−1);
  anything longer or larger matches no route: 404, never an overflow in the driver.
- **The body** is read here, at most MAX_BODY_BYTES + 1 bytes whatever Content-Length says
  (a chunked body has none; werkzeug's own cap silently cut one at the limit): over the cap is
  413 `payload_too_large`. Upload routes (multipart) stream their files themselves with their
  own cap and are left alone.
- **JSON nesting** deeper than MAX_JSON_DEPTH is 400 `json_too_deep`, counted on the raw bytes
  without recursion before anything parses it (Python's json module recurses: 5,000 levels
  are a RecursionError).
- **NUL characters** (PostgreSQL text cannot hold them) in the path or query string are 404 /
  400 `invalid_query`; in a JSON body, 422 `validation_error` (not in gateway callbacks:
  gateways send binary and UCS-2 texts, and their adapters decode and clean them).

Installed by `create_app` through `install(app)`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from relay.api.schemas import DB_INT_MAX  # INTEGER on PostgreSQL (and what SQLite binds safely)
from relay.errors import RelayError

MAX_JSON_DEPTH = 64
_READ_CHUNK = 64 * 1024
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 0 … `limit`."""
    digits = str(limit)
    alternatives = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        rest = len(digits) - i - 1
        low = "1" if i == 0 else "0"
        if int(d) > int(low):
            tail = rf"\d{{{rest}}}" if rest else ""
            alternatives.append(f"{digits[:i]}[{low}-{int(d) - 1}]{tail}")
    alternatives.append(digits)
    return "(?:" + "|".join(alternatives) + ")"


class DbIntConverter(IntegerConverter):
    """`<int:…>` bounded to the database's INTEGER range, 0 … 2^31−1, in the pattern itself:
    a larger number matches no route (404). Checked in `to_python` instead, werkzeug would
    answer 405 to a PATCH whose GET sibling was tried first."""

    regex = up_to(DB_INT_MAX)

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.max = DB_INT_MAX if self.max is None else min(self.max, DB_INT_MAX)


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text `raw` nests arrays/objects deeper than `limit`; no recursion,
    and no work at all for a body with fewer brackets than the limit."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _has_nul(value: Any) -> bool:
    """A NUL character in any string (key or value) of a parsed JSON document; iterative."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def body_limit(app: Flask) -> int:
    """The largest JSON or form body the relay reads (RELAY_MAX_BODY_BYTES)."""
    return int(app.config["RELAY"]["MAX_BODY_BYTES"])


def too_large(limit: int) -> RelayError:
    """413 `payload_too_large`."""
    return RelayError("payload_too_large", f"the body is larger than {limit} bytes", 413)


def read_body(limit: int) -> bytes:
    """The request body, never more than `limit` + 1 bytes read from the stream: 413 when the
    declared length or the bytes actually sent exceed `limit`."""
    environ = request.environ
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # no length and a server that does not end the stream: no body to read
    stream = environ["wsgi.input"]
    wanted = limit + 1 if length is None else length
    chunks: list[bytes] = []
    got = 0
    while got < wanted:
        chunk = stream.read(min(_READ_CHUNK, wanted - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    if got > limit:
        raise too_large(limit)
    return b"".join(chunks)


def _looks_like_json(raw: bytes) -> bool:
    return raw.lstrip()[:1] in (b"{", b"[") or (request.mimetype or "").endswith("json")


def guard_request() -> None:
    """The before-request checks of the module docstring."""
    if "\x00" in request.path:
        raise RelayError("not_found", "no such route", 404)
    # gateways' callbacks carry binary and UCS-2 texts (Kannel's query, a JSON gateway's body):
    # their adapters decode and clean them; the sandbox's inbound stands in for a gateway's
    gateway = request.path.startswith("/callbacks/") or request.path == "/v1/sandbox/inbound"
    if not gateway and any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise RelayError(
            "invalid_query", "the query string holds a NUL character", 400, {"_query": ["NUL"]}
        )
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype == "multipart/form-data":
        return  # uploads: relay.api.imports streams them with their own cap
    from flask import current_app

    raw = read_body(body_limit(current_app))
    request._cached_data = raw  # what get_data()/form read
    if raw and _looks_like_json(raw):
        if json_depth_exceeds(raw):
            raise RelayError(
                "json_too_deep",
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                400,
            )
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return  # the view says malformed_json in its own words
        if not gateway and _has_nul(parsed):
            raise RelayError(
                "validation_error",
                "the body holds a NUL character (\\u0000)",
                422,
                {"_schema": ["NUL characters are not accepted"]},
            )


def install(app: Flask) -> None:
    """Bounded `<int:…>` (before any blueprint is registered) and the request guard."""
    app.url_map.converters["int"] = DbIntConverter
    app.before_request(guard_request)
