"""/openapi.json tells the truth, checked against the running app route by route.

- every route that takes a body documents it (the few that take none are named here, and are
  shown to ignore a body);
- /v1/events documents each event type; each type's example is accepted (202), a repeat is 200;
  dropping a block the document marks required for a type is refused (422);
- every documented status is one the route really answers: the walk calls each operation with
  its documented example and probes each documented error (no key → 401, wrong key → 403,
  malformed JSON or a bad query → 400, a missing id → 404, an oversized body → 413, JSON to an
  upload route → 415, a non-object body → 422). The few statuses that need a whole scenario are
  named in SCENARIOS with the test that shows them;
- and every status observed in the walk is documented.
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from typing import Any

import pytest

from relay.api.openapi import documented_rule
from relay.api.schemas.events import EXAMPLES, component_name
from shared.event_model import EVENT_TYPES
from tests.relay.api.api_world import OPERATOR, PHONE, api_rules, build_world, url_for_rule

BODY_METHODS = {"POST", "PUT", "PATCH"}
# POST routes that take no body: actions on the object named by the path
BODYLESS = {
    ("POST", "/v1/campaigns/{campaign_id}/start"),
    ("POST", "/v1/campaigns/{campaign_id}/pause"),
    ("POST", "/v1/campaigns/{campaign_id}/resume"),
    ("POST", "/v1/campaigns/{campaign_id}/cancel"),
    ("POST", "/v1/providers/{name}/check"),
}
# statuses that need a scenario of their own: (method, path, status) → the test that shows it
SCENARIOS = {
    (
        "POST",
        "/v1/events",
        503,
    ): "test_intake_spool::test_a_key_the_process_has_not_confirmed_gets_503_with_retry_after",
    (
        "POST",
        "/v1/erasures",
        404,
    ): "test_erasure::test_the_operator_names_the_tenant_and_another_tenant_is_untouched",
    ("POST", "/v1/stoplist/import", 202): "test_admin_lists_books big upload (same machinery)",
    ("POST", "/v1/consents/import", 202): "test_admin_lists_books big upload (same machinery)",
    (
        "POST",
        "/v1/books/import",
        202,
    ): "test_admin_lists_books::test_big_upload_is_imported_by_a_worker_with_progress",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/start",
        202,
    ): "test_campaigns_pacing::test_a_large_launch_is_planned_by_a_worker_with_progress",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/resume",
        202,
    ): "test_campaigns_pacing::test_a_launch_paused_half_way_resumes_planning_and_paces_from_the_…",
    (
        "POST",
        "/v1/providers/{name}/check",
        502,
    ): "test_admin_core_operator::test_providers_are_masked_checked_and_ordered_per_tenant",
    ("GET", "/healthz", 503): "test_explain_health::test_healthz_ok_and_503_when_redis_is_down",
    ("GET", "/l/{token}", 302): "test_growth_end_to_end::test_ab_mailing_clicks_orders_and_the_…",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/winner",
        200,
    ): "test_growth_winner::test_the_winner_goes_to_the_rest_of_the_book_and_only_once",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/winner",
        202,
    ): "test_campaigns_pacing::test_a_large_launch_is_planned_by_a_worker_with_progress",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/winner",
        409,
    ): "test_growth_winner::test_the_winner_goes_to_the_rest_of_the_book_and_only_once",
    (
        "POST",
        "/v1/stoplist/clear",
        409,
    ): "test_admin_lists_stoplist::test_delete_all_needs_a_fresh_matching_confirmation_token",
    ("POST", "/v1/books/import", 409): "test_admin_lists_books (a taken book name)",
    (
        "PATCH",
        "/v1/books/{book_id}",
        409,
    ): "test_admin_lists_books::test_book_crud_with_unique_names_and_audit",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/test",
        409,
    ): "test_campaigns (a finished campaign has nothing to test)",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/pause",
        409,
    ): "test_campaigns::test_cancel_stops_unsent_messages_and_further_changes",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/resume",
        409,
    ): "test_campaigns::test_cancel_stops_unsent_messages_and_further_changes",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/cancel",
        409,
    ): "test_campaigns::test_cancel_stops_unsent_messages_and_further_changes",
    (
        "PATCH",
        "/v1/campaigns/{campaign_id}",
        409,
    ): "test_campaigns::test_cancel_stops_unsent_messages_and_further_changes",
    (
        "DELETE",
        "/v1/campaigns/{campaign_id}",
        409,
    ): "test_campaigns::test_cancel_stops_unsent_messages_and_further_changes",
    (
        "POST",
        "/v1/senders",
        409,
    ): "test_admin_core_account::test_a_lost_unique_race_is_a_409_and_writes_nothing",
    ("PATCH", "/v1/tenants/{tenant_id}", 409): "test_admin_core_operator (a taken tenant name)",
    ("POST", "/v1/surveys", 409): "a taken survey name (the example posted twice)",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/start",
        422,
    ): "test_campaigns::test_campaign_without_consented_recipients_is_refused_at_start",
    (
        "POST",
        "/v1/campaigns/{campaign_id}/resume",
        422,
    ): "campaign_control.resume re-admits like start",
    ("POST", "/v1/providers/{name}/check", 422): "an account whose stored config no longer loads",
    ("DELETE", "/v1/templates/{name}", 200): "test_admin_core_templates (an unused template)",
}
for _kind in ("dlr", "inbound"):
    for _method in ("GET", "POST"):
        SCENARIOS[(_method, f"/callbacks/{{name}}/{{token}}/{_kind}", 400)] = (
            "test_kannel_callbacks (a gateway adapter that cannot parse its callback)"
        )
# every route but the health check can be rate limited: test_rate_limits shows the 429
RATE_LIMITED = 429
# queries a route needs to answer at all
REQUIRED_QUERY = {
    "/v1/stoplist": f"phone={PHONE.replace('+', '%2B')}",
    "/v1/consents/current": f"phone={PHONE.replace('+', '%2B')}",
    "/v1/consents/evidence": f"phone={PHONE.replace('+', '%2B')}",
    "/v1/compliance/evidence": f"phone={PHONE.replace('+', '%2B')}",
}
CAMPAIGN = "/v1/campaigns/{campaign_id}"
# the order a campaign's life goes in; everything else in between
LIFECYCLE = {"/start": 0, "/pause": 1, "/resume": 2, "/cancel": 8}


def _doc_path(rule: Any) -> str:
    from relay.api.openapi import openapi_path

    return openapi_path(rule)[0]


@pytest.fixture
def document(client):  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").get_json()


@pytest.fixture
def world(rt, client, tenant) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return build_world(rt, client, tenant)


def test_every_route_that_takes_a_body_documents_it(app, document):
    missing, bodyless = [], set()
    for rule in filter(documented_rule, app.url_map.iter_rules()):
        path = _doc_path(rule)
        for method in sorted((rule.methods or set()) & BODY_METHODS):
            op = document["paths"][path][method.lower()]
            if "requestBody" in op:
                content = op["requestBody"]["content"]
                assert content and all("schema" in media for media in content.values()), path
            elif (method, path) in BODYLESS:
                bodyless.add((method, path))
            else:
                missing.append(f"{method} {path}")
    assert not missing, f"routes with a body but no requestBody: {missing}"
    assert bodyless == BODYLESS  # every exemption is still a route


def test_bodyless_routes_ignore_a_body(app, client, world, document):
    """A body that is not even JSON is never read: no malformed_json, a documented answer."""
    checked = 0
    for rule in api_rules(app):
        for method in sorted(rule.methods & BODY_METHODS):
            path = _doc_path(rule)
            if (method, path) not in BODYLESS:
                continue
            url = url_for_rule(app, rule, world)
            headers = _headers(app, rule, world)[-1]
            junk = client.open(
                url, method=method, data=b"{", content_type="application/json", headers=headers
            )
            assert str(junk.status_code) in document["paths"][path][method.lower()]["responses"]
            if junk.status_code >= 400:
                code = junk.get_json()["error"]["code"]
                assert code not in ("malformed_json", "validation_error"), (path, code)
            checked += 1
    assert checked == len(BODYLESS)


def test_events_document_each_type_with_its_required_blocks(document):
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    refs = [one["$ref"].rsplit("/", 1)[-1] for one in body["schema"]["oneOf"]]
    assert refs == [component_name(t) for t in EVENT_TYPES]
    assert body["schema"]["discriminator"]["propertyName"] == "type"
    schemas = document["components"]["schemas"]
    assert {"event_id", "type", "occurred_at", "customer"} <= set(schemas["Event"]["properties"])
    shipped = schemas["OrderStatusChangedEvent"]["allOf"][1]
    assert shipped["required"] == ["customer", "order"]
    assert shipped["properties"]["order"]["required"] == ["status"]
    granted = schemas["ConsentGrantedEvent"]["allOf"][1]["properties"]["consent"]
    assert granted["required"] == ["wording"] and granted["properties"]["granted"]["enum"] == [True]
    revoked = schemas["ConsentRevokedEvent"]["allOf"][1]["properties"]["consent"]
    assert revoked["properties"]["granted"]["enum"] == [False]
    assert schemas["CartRecoveredEvent"]["allOf"][1]["required"] == ["cart"]
    responses = document["paths"]["/v1/events"]["post"]["responses"]
    assert {"200", "202", "400", "401", "403", "409", "413", "422"} <= set(responses)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_event_types_example_is_accepted_and_its_required_blocks_are_required(
    client, tenant, document, event_type
):
    h = tenant["headers"]
    example = EXAMPLES[event_type]
    first = client.post("/v1/events", json=example, headers=h)
    assert first.status_code == 202, first.get_json()
    again = client.post("/v1/events", json=example, headers=h)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    schema = document["components"]["schemas"][component_name(event_type)]
    assert schema["example"] == example
    extra = schema["allOf"][1]
    for block in extra["required"]:
        body = copy.deepcopy(example)
        body["event_id"] += f"-no-{block}"
        del body[block]
        refused = client.post("/v1/events", json=body, headers=h)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (
            422,
            "validation_error",
        ), (event_type, block)
    for block, spec in extra["properties"].items():
        for field in spec.get("required", []):
            body = copy.deepcopy(example)
            body["event_id"] += f"-no-{block}-{field}"
            del body[block][field]
            refused = client.post("/v1/events", json=body, headers=h)
            assert refused.status_code == 422, (event_type, block, field)


def _headers(app, rule, world) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    auth = getattr(app.view_functions[rule.endpoint], "__auth__", "") or ""
    if auth == "operator":
        return [OPERATOR]
    if auth.startswith("operator_or_tenant:"):
        return [world["headers"], OPERATOR]
    return [world["headers"]]


def _wrong_key(app, rule, world) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    """A key that authenticates but may not call the route (None: the route takes no key)."""
    auth = getattr(app.view_functions[rule.endpoint], "__auth__", "") or ""
    if not auth:
        return None
    if auth == "operator":
        return world["headers"]  # a tenant key on an operator route
    scope = auth.split(":", 1)[1]
    return world["writer"] if scope in ("admin", "messages:read") else world["reader"]


def _example_body(op: dict[str, Any], world: dict[str, Any], method: str, path: str) -> Any:
    overrides = {
        ("POST", "/v1/numbers"): {"number": "7020", "tenant_id": world["params"]["tenant_id"]},
        ("POST", "/v1/campaigns"): {
            "name": "new",
            "book_id": world["campaign_book"],
            "template": "promo",
        },
        ("POST", "/v1/campaigns/{campaign_id}/test"): {"phone": PHONE},
        ("PATCH", "/v1/campaigns/{campaign_id}"): {"name": "renamed"},
        ("POST", "/v1/books/{book_id}/contacts"): {"phone": "+375291110999"},
        ("PUT", "/v1/tenants/{tenant_id}/providers"): {"providers": ["sb-1"]},
    }
    if (method, path) in overrides:
        return overrides[(method, path)]
    media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    return (media or {}).get("example")


def _form(document: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    """A valid multipart form for an upload route: a small csv and the fields its schema has."""
    ref = op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    values = {"name": "upload", "wording": "Согласен получать SMS", "channel": "sms"}
    return {k: v for k, v in values.items() if k in fields}


def _call(client, method, url, op, body, headers, form=None):  # type: ignore[no-untyped-def]
    content = (op.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        data = {"file": (io.BytesIO(b"phone,name\n+375291110155,Anna\n"), "f.csv"), **(form or {})}
        return client.open(
            url, method=method, data=data, headers=headers, content_type="multipart/form-data"
        )
    if body is None:
        return client.open(url, method=method, headers=headers)
    return client.open(url, method=method, json=body, headers=headers)


def test_every_documented_status_is_one_the_route_answers_and_every_answer_is_documented(
    rt, app, client, document, world
):
    rt.config["MAX_UPLOAD_BYTES"] = 1024
    world["campaign_book"] = client.get(
        f"/v1/campaigns/{world['params']['campaign_id']}", headers=world["headers"]
    ).get_json()["book_id"]
    observed: dict[tuple[str, str], set[int]] = defaultdict(set)
    ops = []
    for rule in api_rules(app):
        path = _doc_path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            ops.append((method == "DELETE", rule, method, path))
    # deletions last (deepest path first: a contact before its book); a campaign's life in order
    ops.sort(
        key=lambda o: (
            o[0],
            -len(o[3]) if o[0] else 0,
            "" if o[0] else o[3].rsplit("}", 1)[0],
            next((v for k, v in LIFECYCLE.items() if o[3].endswith(k)), 5),
            o[3],
            o[2],
        ),
        reverse=False,
    )

    def seen(method: str, path: str, resp: Any) -> None:
        observed[(method, path)].add(resp.status_code)
        assert resp.status_code < 500 or path == "/healthz", (method, path, resp.get_data())
        if resp.status_code == 404 and path.startswith("/l/"):
            # a short link is opened by a person's browser: a plain page, documented as such
            assert resp.mimetype == "text/html"
        elif resp.status_code >= 400:
            assert resp.is_json and set(resp.get_json()["error"]) == {"code", "message", "fields"}

    # the error probes first, while every object of the world is still there
    for _last, rule, method, path in ops:
        op = document["paths"][path][method.lower()]
        documented = {int(s) for s in op["responses"]}
        body = _example_body(op, world, method, path)
        url = url_for_rule(app, rule, world)
        content = (op.get("requestBody") or {}).get("content", {})
        if 401 in documented:
            seen(method, path, client.open(url, method=method))
        if 403 in documented:
            wrong = _wrong_key(app, rule, world)
            if wrong is None:  # a gateway callback: the token in the path is the key
                forged = url.replace(world["params"]["token"], "forged")
                seen(method, path, client.open(forged, method=method))
            else:
                seen(method, path, _call(client, method, url, op, body, wrong))
        headers = _headers(app, rule, world)[-1]
        if "application/json" in content:
            seen(
                method,
                path,
                client.open(
                    url, method=method, data=b"{", content_type="application/json", headers=headers
                ),
            )
            seen(method, path, client.open(url, method=method, json=[], headers=headers))
            big = b'{"x": "' + b"x" * int(rt.config["MAX_BODY_BYTES"]) + b'"}'
            seen(
                method,
                path,
                client.open(
                    url, method=method, data=big, content_type="application/json", headers=headers
                ),
            )
        if content and not ({"application/json", "multipart/form-data"} & set(content)):
            big_form = {"x": "x" * int(rt.config["MAX_BODY_BYTES"])}
            seen(method, path, client.open(url, method=method, data=big_form))
        if "multipart/form-data" in content:
            seen(method, path, client.open(url, method=method, json={}, headers=headers))
            seen(
                method,
                path,
                client.open(
                    url,
                    method=method,
                    data={"name": "x"},
                    headers=headers,
                    content_type="multipart/form-data",
                ),
            )
            big = {
                "file": (io.BytesIO(b"phone\n" + b"+375291110155\n" * 200), "big.csv"),
                **_form(document, op),
            }
            seen(
                method,
                path,
                client.open(
                    url,
                    method=method,
                    data=big,
                    headers=headers,
                    content_type="multipart/form-data",
                ),
            )
        for param in op.get("parameters", []):
            if param["in"] == "query":
                bad = "0" if param["name"] == "limit" else "not%20valid%21"
                seen(
                    method,
                    path,
                    client.open(f"{url}?{param['name']}={bad}", method=method, headers=headers),
                )
        if rule.arguments and 404 in documented:
            missing = url_for_rule(app, rule, world, missing=True)
            seen(method, path, _call(client, method, missing, op, body, headers))
    seen(
        "POST",
        "/v1/messages/preview",
        client.post("/v1/messages/preview", json={"template": "nope"}, headers=world["headers"]),
    )
    seen(
        "POST",
        "/v1/numbers",
        client.post("/v1/numbers", json={"number": "1", "tenant_id": "nope"}, headers=OPERATOR),
    )
    seen(
        "POST",
        "/v1/senders",
        client.post(
            "/v1/senders",
            json={"channel": "sms", "name": "OP", "tenant_id": "nope"},
            headers=OPERATOR,
        ),
    )
    conflict = dict(EXAMPLES["order.created"], event_id="e0")  # the world's e0 had another body
    seen("POST", "/v1/events", client.post("/v1/events", json=conflict, headers=world["headers"]))
    seen(
        "POST",
        "/v1/campaigns",
        client.post(
            "/v1/campaigns",
            json={"name": "x", "book_id": 999999, "template": "promo"},
            headers=world["headers"],
        ),
    )

    # then each operation as documented, with its example (twice: a repeat may answer otherwise)
    for _last, rule, method, path in ops:
        op = document["paths"][path][method.lower()]
        body = _example_body(op, world, method, path)
        url = url_for_rule(app, rule, world)
        if (method, path) in (("PATCH", CAMPAIGN), ("DELETE", CAMPAIGN)):  # a draft's changes
            url = url.rsplit("/", 1)[0] + f"/{world['draft_campaign_id']}"
        if rule.rule in REQUIRED_QUERY:
            url = f"{url}?{REQUIRED_QUERY[rule.rule]}"
        form = (
            _form(document, op)
            if "multipart/form-data" in op.get("requestBody", {}).get("content", {})
            else None
        )
        for headers in _headers(app, rule, world):
            for i in range(2):
                if form and "name" in form:
                    form["name"] = f"upload-{i}-{len(headers['Authorization'])}"
                seen(method, path, _call(client, method, url, op, body, headers, form))

    unanswered, undocumented = [], []
    for _last, _rule, method, path in ops:
        documented = {int(s) for s in document["paths"][path][method.lower()]["responses"]}
        got = observed[(method, path)]
        undocumented += [f"{method} {path} → {s}" for s in sorted(got - documented)]
        unanswered += [
            f"{method} {path} → {s}"
            for s in sorted(documented - got)
            if (method, path, s) not in SCENARIOS and s != RATE_LIMITED
        ]
    assert not undocumented, f"answers the document does not list: {undocumented}"
    assert not unanswered, f"documented statuses no call produced: {unanswered}"
    for method, path, status in SCENARIOS:  # no stale exemption
        assert str(status) in document["paths"][path][method.lower()]["responses"], (path, status)
