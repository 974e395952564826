"""Turning amoCRM's form-encoded webhook bodies into nested data.

amoCRM posts `application/x-www-form-urlencoded` bodies whose keys are PHP-style paths:
`leads[status][0][custom_fields][1][values][0][value]=…`, `account[subdomain]=…`. PHP's
`parse_str` builds nested arrays from them; this is the same idea, kept small and strict:

- `a[b][c]=v` → `{"a": {"b": {"c": "v"}}}`; `a[]=x&a[]=y` appends (`["x", "y"]`).
- A level whose keys are exactly "0", "1", … "n-1" becomes a list, in index order. Sparse or
  non-numeric keys stay a dict with string keys (amoCRM sends `linked_leads_id[9982719][ID]`).
- Every value stays a string: amoCRM sends numbers as strings and so do we; callers convert.
- When a key is given both as a value and as a nested path, the later one wins (as in PHP).
- Depth and size are bounded so a hostile body cannot make us recurse or allocate without end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

MAX_DEPTH = 12  # amoCRM's deepest path (custom field values) has 6 levels
MAX_FIELDS = 10_000  # a batch of 50 leads with custom fields stays far below this

_KEY = re.compile(r"\A([^\[\]]+)((?:\[[^\[\]]*\])*)\Z")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """The body cannot be read as a form (bad encoding, too deep, too many fields)."""


def split_key(key: str) -> list[str]:
    """`leads[status][0][id]` → ["leads", "status", "0", "id"]; a malformed key stays whole."""
    match = _KEY.fullmatch(key)
    if match is None:
        return [key]  # e.g. "a[b" — PHP keeps such names literally too
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _insert(root: dict[str, Any], path: list[str], value: str) -> None:
    node = root
    for depth, segment in enumerate(path):
        if segment == "":  # `a[]`: append at the next free index of this level
            segment = str(len(node))
        if depth == len(path) - 1:
            node[segment] = value
            return
        child = node.get(segment)
        if not isinstance(child, dict):  # absent, or a scalar that a nested key replaces
            child = {}
            node[segment] = child
        node = child


def _listify(node: Any) -> Any:
    """Convert every dict keyed exactly "0".."n-1" into a list, bottom-up."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    # "01" or "1" alone is not a list index sequence: only the canonical 0..n-1 set is.
    if converted and set(converted) == {str(i) for i in range(len(converted))}:
        return [converted[str(i)] for i in range(len(converted))]
    return converted


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest (key, value) pairs; raises FormError when too deep or too many."""
    root: dict[str, Any] = {}
    for count, (key, value) in enumerate(pairs, start=1):
        if count > MAX_FIELDS:
            raise FormError(f"more than {MAX_FIELDS} fields, got {count!r}")
        path = split_key(key)
        if len(path) > MAX_DEPTH:
            raise FormError(f"key nested deeper than {MAX_DEPTH} levels, got {key[:80]!r}")
        _insert(root, path, value)
    # The top level stays a dict even for keys "0", "1": callers look names up in it.
    return {key: _listify(value) for key, value in root.items()}


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a form-encoded body (UTF-8, as amoCRM sends it) into nested data."""
    try:
        text = raw.decode("ascii")  # an urlencoded body is ASCII; anything else is not a form
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,  # refuses before building anything
        )
    except (UnicodeError, ValueError) as exc:
        raise FormError(f"not a UTF-8 form body: {exc}") from None
    return parse_pairs(pairs)
