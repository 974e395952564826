"""Bitrix24's flattened form fields, both ways.

Bitrix24 posts events and handler calls as `application/x-www-form-urlencoded` with PHP-style
bracketed keys (`auth[member_id]`, `data[FIELDS][ID]`, `bindings[0][OWNER_ID]`), and its REST
API reads parameters the same way (what PHP's `http_build_query` writes, as the official CRest
SDK sends them). `unflatten` turns received pairs into nested dicts; `flatten` turns nested
parameters into pairs for a REST call or a `batch` command string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 6  # deeper nesting is not something Bitrix24 sends; refuse it rather than recurse


class FormError(ValueError):
    """A form key that cannot be a Bitrix24 field (bad brackets, too deep, clashing types)."""


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`[("auth[member_id]", "a2"), ("data[FIELDS][ID]", "7")]` → nested dicts.

    Lists stay dicts keyed by their index strings ("0", "1" …); `as_list` reads them in order.
    A key seen twice keeps the last value, as PHP does.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise FormError(f"malformed form key {key!r}")
        parts = [match.group(1), *_PART.findall(match.group(2))]
        if len(parts) > MAX_DEPTH:
            raise FormError(f"form key nested too deep: {key!r}")
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(f"form key {key!r} clashes with a plain value")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise FormError(f"form key {key!r} clashes with nested fields")
        node[parts[-1]] = value
    return root


def as_list(value: Any) -> list[Any]:
    """A flattened PHP list (`{"0": …, "1": …}`) or a real list, in index order."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):

        def order(key: str) -> tuple[int, str]:
            return (int(key), "") if key.isdigit() else (1 << 30, key)

        return [value[k] for k in sorted(value, key=order)]
    return [] if value in (None, "") else [value]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):  # Bitrix24 reads Y/N flags; a Python bool is a mapping mistake
        raise FormError("pass Y/N or 1/0 explicitly instead of a bool")
    return "" if value is None else str(value)


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested parameters → `http_build_query`-style pairs (lists get numeric indexes)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs.extend(flatten(value, name))
        elif isinstance(value, list | tuple):
            pairs.extend(flatten({str(i): item for i, item in enumerate(value)}, name))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def command(method: str, params: Mapping[str, Any] | None = None) -> str:
    """One `batch` command: `crm.deal.get?id=42` (the query is urlencoded like a REST call).

    `$result[...]` references are kept readable: Bitrix24 substitutes them before running the
    command, and it expects them as written.
    """
    if not params:
        return method
    query = urlencode(flatten(params), safe="$[]")
    return f"{method}?{query}"
