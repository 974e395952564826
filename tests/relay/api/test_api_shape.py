"""One API shape, checked on every route of the URL map: lists answer {items, next_cursor} and
page with limit/cursor the same way; a bad query is always 400 `invalid_query`; a bad JSON body
always 422 `validation_error`; a wrong method is 405 with `Allow`; an unknown route is JSON.

A route added later is walked too: a list route (declared with `page=` in @documented) must
pass the paging checks, and every GET route that takes `limit` must be such a list route.
"""

from __future__ import annotations

from typing import Any

import pytest

from relay.api.http import DEFAULT_LIMIT, MAX_LIMIT, PageQuerySchema
from tests.relay.api.api_world import OPERATOR, api_rules, build_world, url_for_rule, view_meta

BAD_LIMITS = ("0", "-1", str(MAX_LIMIT + 1), "ten", "")
BAD_CURSORS = ("garbage!", "bm90IGpzb24", "WzEsIDJd")  # not base64 JSON; not JSON; [1, 2]


@pytest.fixture
def world(rt, client, tenant) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return build_world(rt, client, tenant)


def auth_for(app, rule, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The operator token for operator routes (and for the operator's view of shared ones),
    else the tenant's full key."""
    auth = getattr(app.view_functions[rule.endpoint], "__auth__", "")
    return OPERATOR if auth == "operator" else world["headers"]


def list_rules(app) -> list[Any]:  # type: ignore[no-untyped-def]
    return [r for r in api_rules(app) if "GET" in r.methods and view_meta(app, r).get("page")]


def with_query(url: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


# routes whose list needs a filter to say what to list
REQUIRED_QUERY = {"/v1/stoplist": "phone=%2B375291234567"}


def list_url(app, rule, world) -> str:  # type: ignore[no-untyped-def]
    url = url_for_rule(app, rule, world)
    return f"{url}?{REQUIRED_QUERY[rule.rule]}" if rule.rule in REQUIRED_QUERY else url


def test_the_walk_finds_every_list_route(app):
    found = {r.rule for r in list_rules(app)}
    assert found >= {
        "/v1/audit",
        "/v1/books",
        "/v1/books/<int:book_id>/contacts",
        "/v1/campaigns",
        "/v1/consents",
        "/v1/flows",
        "/v1/inbound",
        "/v1/inbound/unrouted",
        "/v1/keys",
        "/v1/messages",
        "/v1/providers",
        "/v1/senders",
        "/v1/stoplist",
        "/v1/stoplist/entries",
        "/v1/templates",
        "/v1/tenants",
        "/v1/tenants/<tenant_id>/keys",
    }
    for rule in api_rules(app):  # anything paged is a list route, with the one query schema
        meta = view_meta(app, rule)
        query = meta.get("query")
        takes_limit = (
            query is not None
            and "limit" in (query if isinstance(query, type) else type(query))._declared_fields
        )
        if "GET" in rule.methods and takes_limit:
            assert meta.get("page") is not None, f"{rule.rule} pages but is not a list route"
        if meta.get("page") is not None:
            schema = query if isinstance(query, type) else type(query)
            assert issubclass(schema, PageQuerySchema), rule.rule


def test_every_list_answers_items_and_next_cursor_and_pages_with_limit_and_cursor(
    app, client, world
):
    for rule in list_rules(app):
        headers = auth_for(app, rule, world)
        url = list_url(app, rule, world)
        whole = client.get(url, headers=headers)
        assert whole.status_code == 200, (rule.rule, whole.get_data(as_text=True))
        body = whole.get_json()
        assert set(body) == {"items", "next_cursor"}, rule.rule
        assert isinstance(body["items"], list) and len(body["items"]) >= 2, rule.rule
        assert body["next_cursor"] is None, rule.rule  # fewer than the default limit
        # walk one item at a time: every item once, in the same order, then next_cursor null
        seen, cursor, pages = [], None, 0
        while True:
            page_url = with_query(url, limit=1, **({"cursor": cursor} if cursor else {}))
            page = client.get(page_url, headers=headers)
            assert page.status_code == 200, (rule.rule, page.get_data(as_text=True))
            got = page.get_json()
            assert set(got) == {"items", "next_cursor"}, rule.rule
            assert len(got["items"]) == 1, (rule.rule, got)
            seen.extend(got["items"])
            pages += 1
            cursor = got["next_cursor"]
            assert cursor is None or isinstance(cursor, str), rule.rule
            if cursor is None:
                break
            assert pages <= len(body["items"]), f"{rule.rule} pages forever"
        assert seen == body["items"], rule.rule


def test_the_default_limit_is_the_same_everywhere(app, client, world, rt):
    from relay.storage.models import StopEntry

    with rt.session() as s:  # more stop-list entries than one default page holds
        for i in range(DEFAULT_LIMIT + 1):
            s.add(
                StopEntry(
                    tenant_id=world["tenant"]["id"],
                    phone=f"+37533{1000000 + i}",
                    channel="all",
                    source="admin",
                )
            )
        s.commit()
    page = client.get("/v1/stoplist/entries", headers=world["headers"]).get_json()
    assert len(page["items"]) == DEFAULT_LIMIT and page["next_cursor"]
    full = client.get(f"/v1/stoplist/entries?limit={MAX_LIMIT}", headers=world["headers"])
    assert len(full.get_json()["items"]) > DEFAULT_LIMIT


def test_a_bad_limit_or_cursor_is_400_invalid_query_on_every_list_route(app, client, world):
    for rule in list_rules(app):
        headers = auth_for(app, rule, world)
        url = list_url(app, rule, world)
        for value in BAD_LIMITS:
            resp = client.get(with_query(url, limit=value), headers=headers)
            err = resp.get_json()["error"]
            assert (resp.status_code, err["code"]) == (400, "invalid_query"), (rule.rule, value)
            assert "limit" in err["fields"], (rule.rule, value, err)
        for value in BAD_CURSORS:
            resp = client.get(with_query(url, cursor=value), headers=headers)
            err = resp.get_json()["error"]
            assert (resp.status_code, err["code"]) == (400, "invalid_query"), (rule.rule, value)
            assert "cursor" in err["fields"], (rule.rule, value, err)


@pytest.mark.parametrize(
    "url,query",
    [
        ("/v1/messages", "status=lost"),
        ("/v1/messages", "from=yesterday"),
        ("/v1/messages", "phone=12"),
        ("/v1/stoplist", "phone=12"),
        ("/v1/stoplist", "other=1"),  # phone missing
        ("/v1/stoplist/entries", "channel=fax"),
        ("/v1/consents", "source=telepathy"),
        ("/v1/consents/evidence", "phone=%2B375291234567&format=pdf"),
        ("/v1/campaigns", "status=lost"),
        ("/v1/audit", "from=yesterday"),
        ("/v1/reports/stats", "group=year"),
        ("/v1/templates/order_processing", "version=first"),
        ("/v1/stoplist/export", "format=pdf"),
    ],
)
def test_a_bad_filter_is_400_invalid_query_too(client, tenant, url, query):
    resp = client.get(f"{url}?{query}", headers=tenant["headers"])
    err = resp.get_json()["error"]
    assert (resp.status_code, err["code"]) == (400, "invalid_query"), (url, query, err)
    assert err["message"] and isinstance(err["fields"], dict) and err["fields"]


def test_a_body_that_is_not_what_the_route_takes_is_422_validation_error_everywhere(
    app, client, world
):
    """Every JSON-body route: a JSON array instead of an object, and an object whose fields are
    all of the wrong type, answer 422 `validation_error`; a body that is not JSON 400."""
    checked = 0
    for rule in api_rules(app):
        meta = view_meta(app, rule)
        if meta.get("body") is None or meta.get("body_type") != "application/json":
            continue
        headers = auth_for(app, rule, world)
        url = url_for_rule(app, rule, world)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            wrong = client.open(url, method=method, json=[1, 2], headers=headers)
            err = wrong.get_json()["error"]
            assert (wrong.status_code, err["code"]) == (422, "validation_error"), (
                method,
                rule.rule,
                err,
            )
            broken = client.open(
                url, method=method, data=b"{", content_type="application/json", headers=headers
            )
            assert (broken.status_code, broken.get_json()["error"]["code"]) == (
                400,
                "malformed_json",
            ), (method, rule.rule)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    "url,body,field",
    [
        ("/v1/policy/explain", {"phone": "+375291234567", "category": "spam"}, "category"),
        ("/v1/messages/preview", {"text": "x", "channel": "fax"}, "channel"),
        ("/v1/messages/preview", {"data": {}}, "text"),
        ("/v1/messages/preview", {"text": "x", "data": [1]}, "data"),
        ("/v1/sandbox/inbound", {"from": "+375291234567", "text": 5}, "text"),
        ("/v1/sandbox/inbound", {"text": "hi"}, "from"),
        ("/v1/surveys", {"name": "n", "window_hours": 0}, "window_hours"),
        ("/v1/surveys", {"window_hours": 5}, "name"),
        ("/v1/stoplist/entries", {"phone": "+375291234567", "channel": "fax"}, "channel"),
        ("/v1/books", {"name": ""}, "name"),
        ("/v1/keys", {"scopes": ["root"]}, "scopes"),
    ],
)
def test_a_bad_field_is_422_validation_error_naming_it(client, tenant, url, body, field):
    resp = client.post(url, json=body, headers=tenant["headers"])
    err = resp.get_json()["error"]
    assert (resp.status_code, err["code"]) == (422, "validation_error"), (url, err)
    assert field in err["fields"], (url, err)


def test_numbers_validate_their_body_too(rt, client, tenant):
    rt.config["ADMIN_TOKEN"] = "op-secret"
    resp = client.post("/v1/numbers", json={"number": "7020"}, headers=OPERATOR)
    err = resp.get_json()["error"]
    assert (resp.status_code, err["code"]) == (422, "validation_error") and "tenant_id" in err[
        "fields"
    ]


def test_a_wrong_method_is_405_json_with_allow_on_every_route(app, client, world):
    by_path: dict[str, set[str]] = {}
    for rule in api_rules(app):
        by_path.setdefault(rule.rule, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    for rule in api_rules(app):
        allowed = by_path[rule.rule]
        wrong = next(m for m in ("DELETE", "PUT", "PATCH", "POST", "GET") if m not in allowed)
        url = url_for_rule(app, rule, world)
        resp = client.open(url, method=wrong, headers=world["headers"])
        assert resp.status_code == 405, (wrong, rule.rule)
        assert resp.is_json and resp.get_json()["error"]["code"] == "method_not_allowed"
        listed = {m.strip() for m in resp.headers["Allow"].split(",")}
        assert allowed <= listed, (rule.rule, listed)
        assert wrong not in listed


def test_an_unknown_route_is_404_json(client, tenant):
    for url in ("/v1/nope", "/nope", "/v1/messages/x/y"):
        resp = client.get(url, headers=tenant["headers"])
        assert resp.status_code == 404 and resp.is_json, url
        assert resp.get_json()["error"]["code"] == "not_found"
