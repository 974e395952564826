"""GET /openapi.json: the OpenAPI 3 document of the whole API, generated from the URL map.

Every rule of `app.url_map` becomes an operation, so a route nobody documented still appears
with its method and path parameters. Views decorated with `relay.api.spec.documented` add a
summary, tags, their request body (marshmallow schema or JSON Schema, with an example), query,
answer and every success status; marshmallow schemas become JSON Schema through apispec's
MarshmallowPlugin. A list's answer is `{"items": [item], "next_cursor"}`.

Error statuses refer to the one error shape of docs/architecture.md ('API') and are derived
from what the route really does: a key → 401 and 403; a JSON body → 400 (`malformed_json`), 413
and 422 (`validation_error`); an upload → 413, 415 and 422; a query → 400 (`invalid_query`); a
path parameter → 404; plus what the view declares (`errors`). Served without a key: it holds no
tenant data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from http import HTTPStatus
from importlib import metadata
from typing import Any, cast

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, current_app, jsonify
from marshmallow import Schema, fields
from werkzeug.routing import Rule

from relay.api.http import blueprint
from relay.api.schemas import DB_INT_MAX
from relay.api.spec import documented

OPENAPI_VERSION = "3.0.3"
JSON = "application/json"
MULTIPART = "multipart/form-data"
BODY_METHODS = ("post", "put", "patch")
# werkzeug converter → JSON Schema of the path parameter
CONVERTERS = {
    "int": {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

# Routes the relay hosts but does not define (connectors/*): what their platforms post.
HOSTED_BODIES = {
    "woocommerce": ("application/json", "a WooCommerce webhook payload (an order)"),
    "bitrix24": (
        "application/x-www-form-urlencoded",
        "a Bitrix24 event or install call (form fields)",
    ),
    "amocrm": ("application/x-www-form-urlencoded", "an amoCRM webhook or settings form"),
}

bp = blueprint("openapi", __name__, url_prefix="")


class ErrorDetailSchema(Schema):
    """What went wrong: a stable snake_case code, a human message, per-field problems."""

    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        required=True,
        metadata={"description": "field path → list of problems (may be empty)"},
    )


class ErrorSchema(Schema):
    """Every error of the API (docs/architecture.md, 'API'):
    `{"error": {"code", "message", "fields"}}`."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def openapi_path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path of a werkzeug rule (`<int:id>` → `{id}`) and its path parameters."""
    params = []
    for match in _PARAM.finditer(rule.rule):
        converter = CONVERTERS.get(match.group("converter") or "", {"type": "string"})
        schema: dict[str, Any] = dict(cast("dict[str, Any]", converter))
        params.append(
            {"in": "path", "name": match.group("name"), "required": True, "schema": schema}
        )
    return _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule), params


def _security(view: Any, path: str) -> tuple[list[dict[str, list[str]]], str]:
    """Security requirement and a sentence about it, from the auth decorators' marker."""
    auth = getattr(view, "__auth__", None)
    if auth == "operator":
        return [{"operatorToken": []}], "Operator token (RELAY_ADMIN_TOKEN)."
    if auth and auth.startswith("operator_or_tenant:"):
        scope = auth.split(":", 1)[1]
        return [{"operatorToken": []}, {"tenantKey": []}], (
            f"Operator token, or a tenant key with scope `{scope}` (sees its own data only)."
        )
    if auth and auth.startswith("tenant:"):
        return [{"tenantKey": []}], f"Tenant key with scope `{auth.split(':', 1)[1]}`."
    return [], "No key (public, or verified by the caller's own token or signature)."


def page_schema(item: Any) -> dict[str, Any]:
    """The one list answer around `item`."""
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "description": "pass as `cursor` for the next page; null on the last page",
            },
        },
    }


def error_statuses(meta: dict[str, Any], method: str, secured: bool, has_params: bool) -> set[int]:
    """The error statuses a route can answer (see the module docstring)."""
    codes: set[int] = set(meta.get("errors") or ())
    if secured:
        codes |= {401, 403}
    if meta.get("body") is not None and method in BODY_METHODS:
        body_type = meta.get("body_type") or JSON
        if body_type == JSON:
            codes |= {400, 413, 422}
        elif body_type == MULTIPART:
            codes |= {413, 415, 422}
        else:
            codes |= {413}
    if meta.get("query") is not None:
        codes.add(400)
    if has_params and meta.get("not_found", True):
        codes.add(404)
    if not meta.get("not_rate_limited"):
        codes.add(429)  # every route but the health check (relay/api/ratelimit.py)
    return codes


def _operation(rule: Rule, method: str, view: Any, has_params: bool) -> dict[str, Any]:
    meta = getattr(view, "__openapi__", None) or {}
    doc = (view.__doc__ or "").strip()
    security, who = _security(view, rule.rule)
    op: dict[str, Any] = {
        "operationId": f"{rule.endpoint}.{method}".replace(".", "_"),
        "summary": meta.get("summary") or (doc.splitlines()[0] if doc else rule.endpoint),
        "description": f"{who}\n\n{doc}" if meta and doc else who,
        "tags": list(meta.get("tags") or [rule.endpoint.split(".")[0]]),
        "security": security,
    }
    if meta.get("query") is not None:
        op["parameters"] = [{"in": "query", "schema": meta["query"]}]
    if method in BODY_METHODS:
        if meta.get("body") is not None:
            media: dict[str, Any] = {"schema": meta["body"]}
            if meta.get("example") is not None:
                media["example"] = meta["example"]
            op["requestBody"] = {
                "required": bool(meta.get("body_required", True)),
                "content": {meta.get("body_type") or JSON: media},
            }
        elif not meta and rule.endpoint.split(".")[0] in HOSTED_BODIES:
            media_type, what = HOSTED_BODIES[rule.endpoint.split(".")[0]]
            op["requestBody"] = {
                "required": True,
                "description": what,
                "content": {media_type: {"schema": {"type": "object"}}},
            }
    statuses = meta.get("status") or (200,)
    op["responses"] = {}
    for status in statuses:
        answer: dict[str, Any] = {"description": HTTPStatus(int(status)).phrase}
        produces = meta.get("produces") or JSON
        if status != 204:
            if meta.get("page") is not None:
                answer["content"] = {JSON: {"schema": page_schema(meta["page"])}}
            elif produces == JSON and meta.get("response") is not None:
                answer["content"] = {JSON: {"schema": meta["response"]}}
            elif produces != JSON:
                answer["content"] = {produces: {"schema": {"type": "string"}}}
        op["responses"][str(status)] = answer
    for code in sorted(error_statuses(meta, method, bool(security), has_params)):
        op["responses"][str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    return op


def _component(spec: APISpec, name: str, schema: Any) -> None:
    if name in spec.components.schemas:
        return
    if isinstance(schema, dict):
        spec.components.schema(name, schema)
    else:
        spec.components.schema(name, schema=schema)


def documented_rule(rule: Rule) -> bool:
    """Whether a URL rule belongs in the document: the JSON API, callbacks and connectors; not
    static files, and not the web cabinet's HTML pages (people in a browser, not clients)."""
    endpoint = rule.endpoint
    return endpoint != "static" and not endpoint.startswith("cabinet.")


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document for every route of `app`."""
    try:
        version = metadata.version("relay")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "0.0.0"
    spec = APISpec(
        title="Relay API",
        version=version,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={
            "description": "Consent-aware SMS and Viber relay. Lists answer "
            '`{"items": [...], "next_cursor"}` and take `limit` (1–500, default 50) and '
            "`cursor`; a bad query is 400 `invalid_query`, a bad JSON body 422 "
            "`validation_error`."
        },
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme(
        "tenantKey", {"type": "http", "scheme": "bearer", "description": "A tenant API key."}
    )
    spec.components.security_scheme(
        "operatorToken",
        {"type": "http", "scheme": "bearer", "description": "The operator's RELAY_ADMIN_TOKEN."},
    )
    rules = sorted(
        (r for r in app.url_map.iter_rules() if documented_rule(r)),
        key=lambda r: (r.rule, r.endpoint),
    )
    for rule in rules:  # named schemas first, so every reference resolves to them
        meta = getattr(app.view_functions[rule.endpoint], "__openapi__", None) or {}
        for name, schema in (meta.get("components") or {}).items():
            _component(spec, name, schema)
        if meta.get("page") is not None:
            _component(spec, _schema_name(meta["page"]), meta["page"])
    error_codes: set[int] = set()
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    path_params: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        path, params = openapi_path(rule)
        path_params[path] = params
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = _operation(rule, method.lower(), view, bool(params))
            error_codes.update(int(c) for c in op["responses"] if c.startswith(("4", "5")))
            paths[path][method.lower()] = op
    for code in sorted(error_codes):
        spec.components.response(
            f"Error{code}",
            {"description": HTTPStatus(code).phrase, "content": {JSON: {"schema": "Error"}}},
        )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations, parameters=path_params[path])
    return _ecma_patterns(spec.to_dict())


def _ecma_patterns(doc: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI patterns are ECMA-262 regular expressions, which know no `\\A` / `\\Z`: the
    Python anchors of our validators become `^` / `$` (ECMA's `$` without the multiline flag
    is the end of the text, as `\\Z` is). Strict validators (jsonschema-rs) refuse the rest."""
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str):
                if pattern.startswith("\\A"):
                    pattern = "^" + pattern[2:]
                if pattern.endswith("\\Z"):
                    pattern = pattern[:-2] + "$"
                node["pattern"] = pattern
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return doc


@bp.get("/openapi.json")
@documented("This document (OpenAPI 3)", tags=("meta",))
def openapi_json() -> Response:
    """Built once per app, on first request (every blueprint is in by then)."""
    doc = current_app.extensions.get("relay_openapi")
    if doc is None:
        doc = current_app.extensions["relay_openapi"] = build_document(current_app)
    return jsonify(doc)
