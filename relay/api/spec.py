"""Route documentation for the generated OpenAPI document (`/openapi.json`).

Views declare their marshmallow schemas with `@documented(...)`; the generator walks the app's
URL map, so every route appears, documented or not, with the error shape of
docs/architecture.md ('API').
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema


def documented(
    summary: str,
    *,
    tags: tuple[str, ...] = (),
    body: type[Schema] | Schema | None = None,
    query: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    many: bool = False,
    content_type: str = "application/json",
    errors: tuple[int, ...] = (400, 401, 403, 404, 422),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI facts to a view function (read by relay.api.openapi)."""

    def attach(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "tags": list(tags),
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "many": many,
            "content_type": content_type,
            "errors": errors,
        }
        return view

    return attach
