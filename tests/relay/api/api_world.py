"""A tenant with at least two of everything every list shows, and the values of every path
parameter of the API, for the tests that walk the URL map (no tests here)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from relay.api.openapi import documented_rule
from relay.compliance.digests import make_digests
from relay.compliance.optout_review import open_review
from relay.runtime import Runtime
from relay.storage.models import InboundMessage, Survey, Tenant
from relay.tenancy.tenants import create_key
from tests.relay.api.test_campaigns_fixtures import (
    campaign_body,
    make_book,
    phone,
    template,
)
from tests.support.factories import order_event

OPERATOR = {"Authorization": "Bearer op-secret"}
PHONE = "+375291234567"
NOON = "2026-01-15T15:00:00+03:00"


def _ok(resp: Any) -> Any:
    assert resp.status_code < 300, (resp.status_code, resp.get_data(as_text=True)[:300])
    return resp.get_json()


def build_world(rt: Runtime, client: Any, tenant: dict[str, Any]) -> dict[str, Any]:
    """Rows for every list (two or more each) and a value for every path parameter."""
    rt.config["ADMIN_TOKEN"] = "op-secret"
    h = tenant["headers"]
    other = _ok(
        client.post("/v1/tenants", json={"name": "zz-other", "region": "RU"}, headers=OPERATOR)
    )
    for scopes in (["events:write"], ["messages:read"]):
        _ok(
            client.post(
                f"/v1/tenants/{other['id']}/keys", json={"scopes": scopes}, headers=OPERATOR
            )
        )
    spare_key = _ok(client.post("/v1/keys", json={"scopes": ["events:write"]}, headers=h))
    for name in ("sb-1", "sb-2"):
        _ok(
            client.post(
                "/v1/providers",
                json={"name": name, "type": "sandbox", "config": {}},
                headers=OPERATOR,
            )
        )
    senders = [
        _ok(client.post("/v1/senders", json={"channel": "sms", "name": n}, headers=h))
        for n in ("SHOP", "SHOP2")
    ]
    books = [_ok(client.post("/v1/books", json={"name": n}, headers=h)) for n in ("b1", "b2")]
    contacts = [
        _ok(client.post(f"/v1/books/{books[0]['id']}/contacts", json={"phone": p}, headers=h))
        for p in (PHONE, "+375297654321")
    ]
    for granted, channel in ((True, "sms"), (False, "viber")):
        _ok(
            client.post(
                "/v1/consents",
                json={
                    "phone": PHONE,
                    "granted": granted,
                    "channel": channel,
                    "source": "crm_field",
                    "wording": "да" if granted else None,
                },
                headers=h,
            )
        )
    for channel in ("sms", "viber"):
        _ok(
            client.post(
                "/v1/stoplist/entries", json={"phone": PHONE, "channel": channel}, headers=h
            )
        )
    template(rt, tenant["id"])
    campaign_book = make_book(rt, tenant["id"], 2, name="campaign book")
    for i in range(2):  # through the API: recorded now, like every real record
        _ok(
            client.post(
                "/v1/consents",
                json={"phone": phone(i), "granted": True, "source": "import", "wording": "да"},
                headers=h,
            )
        )
    campaigns = [
        _ok(client.post("/v1/campaigns", json=campaign_body(campaign_book, name=n), headers=h))
        for n in ("c1", "c2")
    ]
    events = [
        _ok(
            client.post(
                "/v1/events",
                json=order_event(f"e{i}", f"+37529765432{i}", "processing", NOON),
                headers=h,
            )
        )
        for i in range(2)
    ]
    for text in ("Спасибо", "Когда доставка?"):
        _ok(client.post("/v1/sandbox/inbound", json={"from": PHONE, "text": text}, headers=h))
    survey = _ok(client.post("/v1/surveys", json={"name": "nps"}, headers=h))
    _ok(client.post("/v1/surveys", json={"name": "nps-2"}, headers=h))
    job = _ok(
        client.post(
            "/v1/stoplist/import",
            data={"file": (io.BytesIO(b"phone\n+375291110055\n"), "stop.csv")},
            headers=h,
            content_type="multipart/form-data",
        )
    )["job"]
    with rt.session() as s:
        for i in range(2):
            s.add(
                InboundMessage(
                    tenant_id=None,
                    provider="sandbox",
                    dedupe_key=f"unrouted-{i}",
                    sender=PHONE,
                    recipient="9999",
                    text="кто это?",
                    routing="unrouted",
                    received_at=datetime(2026, 1, 15, 12, i, tzinfo=UTC),
                )
            )
        reviews = [
            open_review(s, tenant["id"], p, "это спам", "unsure", None, rt.now())
            for p in ("+375291110001", "+375291110002")
        ]
        for day in (0, 1):  # two signed digests of the tenant's chain
            make_digests(s, rt.config["SECRET_KEY"], rt.now() + timedelta(days=day), tenant["id"])
        _row, reader = create_key(s, s.get(Tenant, tenant["id"]), ["messages:read"])
        _row, writer = create_key(s, s.get(Tenant, tenant["id"]), ["events:write"])
        s.commit()
        assert s.get(Survey, survey["id"]) is not None
    provider_token = client.get("/v1/providers/sb-1", headers=OPERATOR).get_json()["callback_url"]
    return {
        "tenant": tenant,
        "draft_campaign_id": campaigns[1]["id"],
        "headers": h,
        "reader": {"Authorization": f"Bearer {reader}"},
        "writer": {"Authorization": f"Bearer {writer}"},
        "params": {
            "tenant_id": other["id"],
            "key_id": spare_key["id"],
            "sender_id": senders[0]["id"],
            "book_id": books[0]["id"],
            "contact_id": contacts[0]["id"],
            "campaign_id": campaigns[0]["id"],
            "message_id": events[0]["messages"][0]["id"],
            "survey_id": survey["id"],
            "review_id": reviews[0].id,
            "job_id": job["id"],
            "token": provider_token.rstrip("/").rsplit("/", 1)[-1],
        },
        # `<name>` means a different thing under each prefix
        "names": {
            "/v1/templates": "order_processing",
            "/v1/flows": "order-processing",
            "/v1/providers": "sb-1",
            "/callbacks": "sb-1",
        },
    }


def url_for_rule(app: Flask, rule: Rule, world: dict[str, Any], *, missing: bool = False) -> str:
    """The rule's path with the world's values (or values nothing has, with `missing`)."""
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        if missing:
            values[arg] = 999_999 if "int" in rule.rule.split(arg)[0][-5:] else "nope"
        elif arg == "name":
            values[arg] = next(v for p, v in world["names"].items() if rule.rule.startswith(p))
        else:
            values[arg] = world["params"][arg]
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def view_meta(app: Flask, rule: Rule) -> dict[str, Any]:
    """What the view declared with relay.api.spec.documented ({} when nothing)."""
    return getattr(app.view_functions[rule.endpoint], "__openapi__", None) or {}


def api_rules(app: Flask) -> list[Rule]:
    """The relay's own routes (not the connectors' or static files), in a stable order."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if documented_rule(r) and not r.rule.startswith("/connectors")
        ),
        key=lambda r: (r.rule, r.endpoint),
    )
