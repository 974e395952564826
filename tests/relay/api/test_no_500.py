"""No input makes the relay answer 500 (docs/security.md, 'No 500 from any input').

Walked from the URL map: a whole number beyond the database's INTEGER range in a path is 404
on every route that takes one; in a cursor, a query or a body it is 400/422 naming it. A JSON
body nested 5,000 deep is 400 `json_too_deep` on every route that takes a body; a body over
MAX_BODY_BYTES is 413 also when it is chunked (no Content-Length); NUL characters are refused.
`.ci/schemathesis.py` fuzzes the whole API on top of this.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from relay.api.guards import DB_INT_MAX, MAX_JSON_DEPTH, json_depth_exceeds
from relay.api.http import encode_cursor
from relay.api.openapi import documented_rule

HUGE = (str(DB_INT_MAX + 1), str(2**63), "9" * 40, "9" * 5000)
OPERATOR_TOKEN = "op-secret"
# what gunicorn (and werkzeug's dev server) say of a chunked body: the server ends the stream
CHUNKED = {"wsgi.input_terminated": True}


@pytest.fixture
def headers(rt, tenant):  # type: ignore[no-untyped-def]
    rt.config["ADMIN_TOKEN"] = OPERATOR_TOKEN
    return tenant["headers"]


def _int_rules(app):  # type: ignore[no-untyped-def]
    # the API's routes (the cabinet's HTML pages have their own junk test in tests/cabinet)
    return [r for r in app.url_map.iter_rules() if "<int:" in r.rule and documented_rule(r)]


def test_every_int_path_parameter_beyond_the_column_is_404(app, client, headers):
    rules = _int_rules(app)
    assert len(rules) >= 15  # books, contacts, campaigns, imports, senders, surveys …
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for huge in HUGE:
                path = re.sub(r"<int:\w+>", huge, rule.rule)
                resp = client.open(path, method=method, headers=headers, json={})
                assert resp.status_code == 404, (method, path[:80], resp.status_code)
                assert resp.get_json()["error"]["code"] == "not_found"


def test_the_largest_integer_id_is_a_plain_not_found(client, headers):
    resp = client.get(f"/v1/books/{DB_INT_MAX}", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "book_not_found"


def test_cursors_query_ints_and_body_ids_beyond_the_column_are_refused(client, headers):
    for value in (DB_INT_MAX + 1, 2**63, -(2**63)):
        resp = client.get(f"/v1/books?cursor={encode_cursor(value)}", headers=headers)
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_query"
    resp = client.get(f"/v1/messages?campaign_id={2**40}", headers=headers)
    assert resp.status_code == 400 and "campaign_id" in resp.get_json()["error"]["fields"]
    resp = client.post("/v1/stoplist/entries/delete", headers=headers, json={"ids": [2**40]})
    assert resp.status_code == 422 and "ids" in resp.get_json()["error"]["fields"]
    resp = client.get(f"/v1/templates/order_cancelled?version={2**40}", headers=headers)
    assert resp.status_code == 400 and "version" in resp.get_json()["error"]["fields"]
    resp = client.post(
        "/v1/campaigns",
        headers=headers,
        json={"name": "x", "template": "order_cancelled", "book_id": 2**40},
    )
    assert resp.status_code == 422 and "book_id" in resp.get_json()["error"]["fields"]


def _body_routes(app):  # type: ignore[no-untyped-def]
    for rule in filter(documented_rule, app.url_map.iter_rules()):
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            yield method, re.sub(r"<(?:\w+:)?\w+>", "x", path)


def test_a_json_body_5000_deep_is_400_json_too_deep_on_every_route(app, client, headers):
    deep = b"[" * 5000 + b"]" * 5000
    deep_object = b'{"a":' * 5000 + b"1" + b"}" * 5000
    routes = list(_body_routes(app))
    assert len(routes) >= 40  # the API's and the connectors' (webhooks included)
    for method, path in routes:
        for body in (deep, deep_object):
            resp = client.open(
                path, method=method, data=body, headers={**headers, "Content-Type": "text/plain"}
            )
            assert resp.status_code == 400, (method, path, resp.status_code)
            assert resp.get_json()["error"]["code"] == "json_too_deep", (method, path)


def test_nesting_up_to_the_limit_is_parsed_and_brackets_in_strings_do_not_count(client, headers):
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    in_text = json.dumps({"sms_text": "[[[{" * 100 + '"\\"[' * 50}).encode()
    assert not json_depth_exceeds(in_text)
    body = {"name": "deep-but-fine", "category": "transactional", "sms_text": "[" * 100}
    resp = client.post("/v1/templates", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_a_chunked_body_over_the_limit_is_413_not_cut(app, client, headers):
    limit = app.config["RELAY"]["MAX_BODY_BYTES"]
    big = json.dumps({"event_id": "e1", "pad": "x" * (limit + 10)}).encode()
    resp = client.post(
        "/v1/events",
        input_stream=io.BytesIO(big),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides=CHUNKED,
    )
    assert resp.status_code == 413, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] == "payload_too_large"
    # with a Content-Length: refused before a byte is read
    resp = client.post(
        "/v1/events", data=big, headers={**headers, "Content-Type": "application/json"}
    )
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "payload_too_large"


def test_a_chunked_body_under_the_limit_is_read_whole(client, headers):
    body = {"phone": "+375291234567", "category": "marketing", "channel": "sms"}
    resp = client.post(
        "/v1/policy/explain",
        input_stream=io.BytesIO(json.dumps(body).encode()),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides=CHUNKED,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_nul_characters_are_refused_in_path_query_and_body(client, headers):
    assert client.get("/v1/messages/ab%00cd", headers=headers).status_code == 404
    resp = client.get("/v1/messages?sender=a%00b", headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_query"
    resp = client.post(
        "/v1/templates",
        headers=headers,
        json={"name": "n\u0000ul", "category": "transactional", "sms_text": "hi"},
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "validation_error"
