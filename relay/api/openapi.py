"""The OpenAPI 3 document of the whole API, generated from the app's URL map.

Every rule of `app.url_map` becomes an operation, so a route nobody documented still appears
with its method and path parameters. Views decorated with `relay.api.spec.documented` add a
summary, tags and their marshmallow schemas (request body, query, answer), turned into JSON
Schema by apispec's MarshmallowPlugin. Every error status refers to the one error shape
(docs/architecture.md, 'API'). Served at GET /openapi.json without a key: it holds no tenant
data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from http import HTTPStatus
from importlib import metadata
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, jsonify
from marshmallow import Schema, fields
from werkzeug.routing import Rule

OPENAPI_VERSION = "3.0.3"
DEFAULT_ERRORS = (400, 401, 403, 404, 422)
# werkzeug converter → JSON Schema of the path parameter
CONVERTERS = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


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
    """Every error of the API: `{"error": {"code", "message", "fields"}}` (docs/architecture.md,
    'API')."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def openapi_path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path of a werkzeug rule (`<int:id>` → `{id}`) and its path parameters."""
    params = []
    for match in _PARAM.finditer(rule.rule):
        schema = dict(CONVERTERS.get(match.group("converter") or "", {"type": "string"}))
        params.append(
            {"in": "path", "name": match.group("name"), "required": True, "schema": schema}
        )
    return _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule), params


def _security(view: Any, path: str) -> tuple[list[dict[str, list]], str]:
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
    if path.startswith("/v1/"):
        return [{"tenantKey": []}], "Tenant key."
    return [], "No key (public, or verified by the caller's own signature)."


def _operation(rule: Rule, method: str, view: Any, path: str) -> dict[str, Any]:
    meta = getattr(view, "__openapi__", None) or {}
    doc = (view.__doc__ or "").strip().splitlines()
    security, who = _security(view, path)
    op: dict[str, Any] = {
        "operationId": f"{rule.endpoint}.{method}".replace(".", "_"),
        "summary": meta.get("summary") or (doc[0] if doc else rule.endpoint),
        "description": who,
        "tags": list(meta.get("tags") or [rule.endpoint.split(".")[0]]),
        "security": security,
    }
    if meta.get("query") is not None:
        op["parameters"] = [{"in": "query", "schema": meta["query"]}]
    if meta.get("body") is not None and method in ("post", "put", "patch"):
        op["requestBody"] = {
            "required": True,
            "content": {meta.get("content_type") or "application/json": {"schema": meta["body"]}},
        }
    status = str(meta.get("status", 200))
    answer: dict[str, Any] = {"description": HTTPStatus(int(status)).phrase}
    if meta.get("response") is not None:
        schema = meta["response"]
        if meta.get("many"):
            schema = {"type": "array", "items": schema}
        answer["content"] = {"application/json": {"schema": schema}}
    op["responses"] = {status: answer}
    errors = meta.get("errors", DEFAULT_ERRORS if security else (400, 404))
    for code in errors:
        op["responses"][str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    return op


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
        info={"description": "Consent-aware SMS and Viber relay: public and admin API."},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme(
        "tenantKey", {"type": "http", "scheme": "bearer", "description": "A tenant API key."}
    )
    spec.components.security_scheme(
        "operatorToken",
        {"type": "http", "scheme": "bearer", "description": "The operator's RELAY_ADMIN_TOKEN."},
    )
    error_codes: set[int] = set(DEFAULT_ERRORS)
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    path_params: dict[str, list[dict[str, Any]]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        path, params = openapi_path(rule)
        path_params[path] = params
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = _operation(rule, method.lower(), view, rule.rule)
            error_codes.update(int(c) for c in op["responses"] if c.startswith(("4", "5")))
            paths[path][method.lower()] = op
    for code in sorted(error_codes):
        spec.components.response(
            f"Error{code}",
            {
                "description": HTTPStatus(code).phrase,
                "content": {"application/json": {"schema": "Error"}},
            },
        )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations, parameters=path_params[path])
    return spec.to_dict()


def openapi_json():  # type: ignore[no-untyped-def]
    """GET /openapi.json: built once per app, on first request (every blueprint is in)."""
    doc = current_app.extensions.get("relay_openapi")
    if doc is None:
        doc = current_app.extensions["relay_openapi"] = build_document(current_app)
    return jsonify(doc)


openapi_json.__openapi__ = {  # type: ignore[attr-defined]
    "summary": "This document (OpenAPI 3)",
    "tags": ["meta"],
    "body": None,
    "query": None,
    "response": None,
    "status": 200,
    "many": False,
    "content_type": "application/json",
    "errors": (),
}
