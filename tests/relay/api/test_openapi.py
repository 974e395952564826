"""GET /openapi.json: a valid OpenAPI 3 document describing every route of the app."""

from __future__ import annotations

import re

import pytest

from relay.api.openapi import documented_rule, openapi_path

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):  # type: ignore[no-untyped-def]
    resp = client.get("/openapi.json")  # no key: the document holds no tenant data
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/json")
    return resp.get_json()


def test_document_is_valid_openapi_3(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)
    assert document["openapi"].startswith("3.")


def test_every_url_map_rule_and_method_is_described(app, document):
    missing = []
    for rule in app.url_map.iter_rules():
        if not documented_rule(rule):
            continue
        path, params = openapi_path(rule)
        item = document["paths"].get(path)
        if item is None:
            missing.append(rule.rule)
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if method.lower() not in item:
                missing.append(f"{method} {rule.rule}")
        names = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert names == {p["name"] for p in params}, rule.rule
    assert not missing, f"routes missing from /openapi.json: {missing}"
    assert "/openapi.json" in document["paths"]
    assert not any("<" in p for p in document["paths"]), "werkzeug syntax leaked into paths"


def test_every_error_status_refers_to_the_design_error_shape(document):
    schema = document["components"]["schemas"]["Error"]
    assert schema["required"] == ["error"]
    detail = document["components"]["schemas"][schema["properties"]["error"]["$ref"].split("/")[-1]]
    assert set(detail["properties"]) == {"code", "message", "fields"}
    seen = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, answer in op["responses"].items():
                if re.fullmatch(r"4\d\d", status) or "$ref" in answer:
                    seen += 1
                    ref = answer["$ref"]
                    resolved = document["components"]["responses"][ref.split("/")[-1]]
                    content = resolved["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (path, method)
    assert seen > 50


def test_admin_routes_carry_their_schemas_and_security(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["tenantKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A tenant API key.",
    }
    assert schemes["operatorToken"]["scheme"] == "bearer"
    create = document["paths"]["/v1/templates"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    props = document["components"]["schemas"][body.split("/")[-1]]["properties"]
    assert {"name", "category", "sms_text", "viber_text", "viber", "sender"} <= set(props)
    assert create["security"] == [{"tenantKey": []}]
    assert document["paths"]["/v1/tenants"]["post"]["security"] == [{"operatorToken": []}]
    audit = document["paths"]["/v1/audit"]["get"]
    assert {p["name"] for p in audit["parameters"]} >= {"from", "to", "action", "limit", "cursor"}
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    assert document["paths"]["/v1/senders/{sender_id}"]["parameters"] == [
        {
            "in": "path",
            "name": "sender_id",
            "required": True,
            # the database's INTEGER: a larger id matches no route (404), never a 500
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        }
    ]
