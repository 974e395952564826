"""Route documentation for the generated OpenAPI document (`/openapi.json`).

Views declare what they take and answer with `@documented(...)`; relay.api.openapi walks the
app's URL map, so every route appears, documented or not. Error statuses are mostly derived
from facts the generator can see (who may call → 401/403; a JSON body → 400/413/422; a query
→ 400; a path parameter → 404); `errors` adds the ones only the view knows (409 …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from marshmallow import Schema

SchemaLike = type[Schema] | Schema | dict[str, Any]


class DocOptions(TypedDict, total=False):
    """`documented`'s keyword arguments, for a set of them shared by several routes."""

    tags: tuple[str, ...]
    body: SchemaLike | None
    body_type: str
    body_required: bool
    example: Any
    query: type[Schema] | Schema | None
    response: SchemaLike | None
    page: type[Schema] | Schema | None
    status: int | tuple[int, ...]
    produces: str
    errors: tuple[int, ...]
    not_found: bool
    components: dict[str, Any] | None


def documented(
    summary: str,
    *,
    tags: tuple[str, ...] = (),
    body: SchemaLike | None = None,
    body_type: str = "application/json",
    body_required: bool = True,
    example: Any = None,
    query: type[Schema] | Schema | None = None,
    response: SchemaLike | None = None,
    page: type[Schema] | Schema | None = None,
    status: int | tuple[int, ...] = 200,
    produces: str = "application/json",
    errors: tuple[int, ...] = (),
    not_found: bool = True,
    not_rate_limited: bool = False,
    components: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI facts to a view function (read by relay.api.openapi).

    `body`: the request body's schema (`body_type` multipart/form-data for uploads), with an
    `example` that a test posts; `page`: the item schema of a list (the answer is then
    `{"items": [item], "next_cursor"}` and `query` must take `limit` and `cursor`);
    `status`: every success status the route answers, the usual one first; `errors`: error
    statuses beyond the derived ones; `not_found=False` when a path parameter never gives 404;
    `components`: named schemas (marshmallow or JSON Schema) that `body` refers to.
    """

    def attach(view: Callable[..., Any]) -> Callable[..., Any]:
        # a function attribute, which mypy does not model
        view.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "tags": list(tags),
            "body": body,
            "body_type": body_type,
            "body_required": body_required,
            "example": example,
            "query": query,
            "response": response,
            "page": page,
            "status": (status,) if isinstance(status, int) else tuple(status),
            "produces": produces,
            "errors": tuple(errors),
            "not_found": not_found,
            "not_rate_limited": not_rate_limited,
            "components": dict(components or {}),
        }
        return view

    return attach
