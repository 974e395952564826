"""A key of tenant B can never read or change anything of tenant A — on every route.

One table-driven test walks the app's URL map. Every /v1 rule with path parameters is called
with ids of tenant A's objects and tenant B's full-scope key, with every method it allows:
the answer must be 404 (403 for operator-only routes), never 2xx, and A's rows must be
unchanged afterwards. Rules without parameters are read with B's key and must not show any of
A's marker values. A rule with a parameter this test does not know fails it: a new route must
be added here (PARAM_KINDS / COLLECTION_KINDS) so that it is covered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, select
from sqlalchemy.orm import Session

from relay.compliance.optout_review import open_review
from relay.storage.models import (
    AddressBook,
    ApiKey,
    Base,
    Campaign,
    ConsentRecord,
    Contact,
    ImportJob,
    MessageHistory,
    SenderName,
    StopEntry,
)
from relay.storage.replies import Survey
from tests.support.factories import make_tenant, order_event

A_PHONE, A_PHONE_STOP = "+375291111111", "+375292222222"
A_IP = "203.0.113.77"
MARK = "MARKER-A"
NOON = "2026-01-15T15:00:00+03:00"

# a parameter name that says what it is
PARAM_KINDS = {
    "message_id": "message",
    "template": "template",
    "template_name": "template",
    "flow_name": "flow",
    "key_id": "key",
    "sender_id": "sender",
    "tenant_id": "tenant",
    "provider": "provider",
    "provider_name": "provider",
    "book_id": "book",
    "contact_id": "contact",
    "campaign_id": "campaign",
    "job_id": "job",
    "import_id": "job",
    "entry_id": "stop",
    "stop_id": "stop",
    "consent_id": "consent",
    "record_id": "consent",
    "survey_id": "survey",
    "review_id": "review",
    "phone": "phone",
    "fmt": "format",
    "format": "format",
}
# a generic name (id, name, ...) takes its meaning from the collection segment before it
GENERIC = {"id", "name", "pk", "ref"}
COLLECTION_KINDS = {
    "messages": "message",
    "templates": "template",
    "flows": "flow",
    "keys": "key",
    "senders": "sender",
    "tenants": "tenant",
    "providers": "provider",
    "books": "book",
    "address-books": "book",
    "addressbooks": "book",
    "address_books": "book",
    "contacts": "contact",
    "campaigns": "campaign",
    "greetings": "campaign",
    "imports": "job",
    "import-jobs": "job",
    "jobs": "job",
    "stoplist": "stop",
    "stop-list": "stop",
    "consent": "consent",
    "consents": "consent",
    "surveys": "survey",
    "optout-reviews": "review",
}
# A valid body for write routes: with `{}` a route that validates the body before looking the
# object up answers 422 and never reaches its tenant check, so the walk would prove nothing.
SAMPLE_BODIES: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("PUT", "/v1/templates/<name>"): lambda ids: {"category": "transactional", "sms_text": "B"},
    ("POST", "/v1/templates/<name>/preview"): lambda ids: {"data": {}},
    ("PUT", "/v1/flows/<name>"): lambda ids: {
        "trigger": "order.created",
        "category": "transactional",
        "template": "order_processing",
    },
    ("PATCH", "/v1/senders/<int:sender_id>"): lambda ids: {"state": "requested"},
    ("PATCH", "/v1/books/<int:book_id>"): lambda ids: {"name": "B-renamed"},
    ("POST", "/v1/books/<int:book_id>/contacts"): lambda ids: {"phone": "+79161234567"},
    ("PATCH", "/v1/campaigns/<int:campaign_id>"): lambda ids: {"name": "B-renamed"},
    ("POST", "/v1/campaigns/<int:campaign_id>/winner"): lambda ids: {"template": "promo"},
    # routes without path parameters that take A's ids in the body: B's call must not touch A
    ("POST", "/v1/stoplist/entries/delete"): lambda ids: {"ids": [ids["stop"]]},
    ("POST", "/v1/stoplist/clear"): lambda ids: {},
    ("POST", "/v1/optout-reviews/<int:review_id>/decision"): lambda ids: {"opt_out": True},
}
_PARAM = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _kind(rule: str, match: re.Match) -> str | None:
    name = match.group("name")
    if name in PARAM_KINDS:
        return PARAM_KINDS[name]
    if name in GENERIC:
        before = [s for s in rule[: match.start()].split("/") if s and "<" not in s]
        return COLLECTION_KINDS.get(before[-1]) if before else None
    return None


def _make_a(rt, client) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Tenant A with one object of every kind (API where we own it, rows otherwise)."""
    a = make_tenant(rt, f"{MARK}-shop", "BY")
    h = a["headers"]
    event = order_event(
        "a-1",
        A_PHONE,
        "processing",
        NOON,
        customer={"phone": A_PHONE, "name": f"{MARK}-customer"},
        consent={
            "purpose": "marketing",
            "granted": True,
            "source": "checkout_checkbox",
            "wording": f"{MARK}-wording",
            "ip": A_IP,
        },
    )
    [msg] = client.post("/v1/events", json=event, headers=h).get_json()["messages"]
    tpl = {"name": f"{MARK}-tpl", "category": "transactional", "sms_text": f"{MARK} text"}
    assert client.post("/v1/templates", json=tpl, headers=h).status_code == 201
    flow = {
        "name": f"{MARK}-flow",
        "trigger": "order.created",
        "template": f"{MARK}-tpl",
        "category": "transactional",
    }
    assert client.post("/v1/flows", json=flow, headers=h).status_code == 201
    key = client.post("/v1/keys", json={"scopes": ["admin"], "name": f"{MARK}-key"}, headers=h)
    sender = client.post("/v1/senders", json={"channel": "sms", "name": "ASHOP"}, headers=h)
    with rt.session() as s:
        book = AddressBook(tenant_id=a["id"], name=f"{MARK}-book")
        s.add(book)
        s.flush()
        contact = Contact(book_id=book.id, tenant_id=a["id"], phone=A_PHONE, name=f"{MARK}-contact")
        campaign = Campaign(
            tenant_id=a["id"], name=f"{MARK}-campaign", book_id=book.id, template=f"{MARK}-tpl"
        )
        job = ImportJob(tenant_id=a["id"], kind="address_book", target_id=str(book.id))
        stop = StopEntry(tenant_id=a["id"], phone=A_PHONE_STOP, source="admin", note=f"{MARK}-note")
        survey = Survey(tenant_id=a["id"], name=f"{MARK}-survey")
        s.add_all([contact, campaign, job, stop, survey])
        s.flush()
        review = open_review(s, a["id"], A_PHONE, f"{MARK} спам", "unsure", None, rt.now())
        consent = s.scalar(select(ConsentRecord.id).where(ConsentRecord.tenant_id == a["id"]))
        ids = {
            "message": msg["id"],
            "template": f"{MARK}-tpl",
            "flow": f"{MARK}-flow",
            "key": key.get_json()["id"],
            "sender": sender.get_json()["id"],
            "tenant": a["id"],
            "provider": "sandbox",
            "book": book.id,
            "contact": contact.id,
            "campaign": campaign.id,
            "job": job.id,
            "stop": stop.id,
            "consent": consent,
            "survey": survey.id,
            "review": review.id,
            "phone": A_PHONE,
            "format": "csv",
        }
        s.commit()
    markers = [MARK, a["id"], A_PHONE, A_PHONE[4:], A_PHONE_STOP, A_IP, msg["id"], a["key"][:10]]
    return ids, {"tenant": a, "markers": markers}


def _snapshot(rt, tenant_id: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every row of the tenant, table by table (plus its messages' history)."""
    out: dict[str, list[str]] = {}
    with rt.session() as s:
        for table in Base.metadata.sorted_tables:
            col: Column | None = table.columns.get("tenant_id")
            if col is None:
                continue
            rows = s.execute(select(table).where(col == tenant_id)).all()
            out[table.name] = sorted(json.dumps(list(r), default=str) for r in rows)
        out["message_history"] = _history(s, tenant_id)
    return out


def _history(s: Session, tenant_id: str) -> list[str]:
    from relay.storage.models import Message

    rows = s.execute(
        select(MessageHistory)
        .join(Message, Message.id == MessageHistory.message_id)
        .where(Message.tenant_id == tenant_id)
    ).scalars()
    return sorted(f"{h.message_id}:{h.status}:{h.at}" for h in rows)


def _call_confirmed(client, method, url, body, headers):  # type: ignore[no-untyped-def]
    """Call a route; when it asks for a confirmation token (delete all), confirm it."""
    resp = client.open(url, method=method, json=body, headers=headers)
    token = (resp.get_json(silent=True) or {}).get("confirm_token")
    if resp.status_code < 300 and token:
        resp = client.open(
            url, method=method, json={**body, "confirm_token": token}, headers=headers
        )
    return resp


def test_tenant_b_cannot_reach_tenant_a_on_any_route(rt, app, client):
    rt.config["ADMIN_TOKEN"] = "op-secret"  # operator routes exist and must refuse B's key
    ids, a = _make_a(rt, client)
    b = make_tenant(rt, "tenant-b", "RU")
    before = _snapshot(rt, a["tenant"]["id"])
    problems: list[str] = []
    checked = 0

    def leaks(text: str, allow: tuple[str, ...] = ()) -> list[str]:
        return [m for m in a["markers"] if m in text and m not in allow]

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        expected = 403 if getattr(view, "__auth__", None) == "operator" else 404
        matches = list(_PARAM.finditer(rule.rule))
        if not matches:
            if "GET" in (rule.methods or ()):
                for query in ({}, {"phone": A_PHONE}):
                    resp = client.get(rule.rule, query_string=query, headers=b["headers"])
                    checked += 1
                    text = resp.get_data(as_text=True)
                    allow = (A_PHONE, A_PHONE[4:]) if query else ()
                    if resp.status_code >= 500 or leaks(text, allow):
                        problems.append(
                            f"GET {rule.rule} {query}: {resp.status_code} {leaks(text)}"
                        )
            for method in sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
                make = SAMPLE_BODIES.get((method, rule.rule))
                if make is None:
                    continue  # creates B's own rows; nothing of A's is named
                resp = _call_confirmed(client, method, rule.rule, make(ids), b["headers"])
                checked += 1
                if resp.status_code >= 500 or leaks(resp.get_data(as_text=True)):
                    problems.append(f"{method} {rule.rule}: {resp.status_code}")
            continue
        url, phone_route = rule.rule, False
        for match in matches:
            kind = _kind(rule.rule, match)
            if kind is None:
                problems.append(f"{rule.rule}: unknown parameter <{match.group('name')}>; add it")
                break
            value = ids[kind]
            if match.group("conv") == "int" and not isinstance(value, int):
                problems.append(f"{rule.rule}: <{match.group('name')}> is int, {kind} is not")
                break
            phone_route = phone_route or kind == "phone"
            url = url.replace(match.group(0), str(value), 1)
        else:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                make = SAMPLE_BODIES.get((method, rule.rule), lambda ids: {})
                body = make(ids) if method in ("POST", "PUT", "PATCH") else None
                resp = client.open(url, method=method, json=body, headers=b["headers"])
                checked += 1
                text = resp.get_data(as_text=True)
                echoed = tuple(m for m in a["markers"] if m in url)  # B's own input, echoed
                if phone_route:
                    # addressed by a phone number: B may see its own (empty) data, never A's
                    ok = resp.status_code < 500 and not leaks(text, echoed)
                else:
                    ok = resp.status_code == expected and not leaks(text, echoed)
                if not ok:
                    problems.append(
                        f"{method} {url} ({rule.rule}): expected {expected}, got "
                        f"{resp.status_code} {text[:160]} (look the object up before validating "
                        "the body, or give the route a valid body in SAMPLE_BODIES)"
                    )
    after = _snapshot(rt, a["tenant"]["id"])
    changed = [t for t in before if before[t] != after.get(t)]
    assert not problems, "tenant B reached tenant A:\n" + "\n".join(problems)
    assert not changed, f"tenant B's calls changed tenant A's rows in {changed}"
    assert checked >= 30  # the walk really ran over the admin API


def test_a_own_key_reaches_the_same_objects(rt, client):
    """The ids used above are real: with A's own key the same URLs answer 200."""
    ids, a = _make_a(rt, client)
    h = a["tenant"]["headers"]
    for url in (
        f"/v1/messages/{ids['message']}",
        f"/v1/templates/{ids['template']}",
        f"/v1/flows/{ids['flow']}",
    ):
        assert client.get(url, headers=h).status_code == 200, url
    with rt.session() as s:
        assert s.get(ApiKey, ids["key"]).tenant_id == a["tenant"]["id"]
        assert s.get(SenderName, ids["sender"]).tenant_id == a["tenant"]["id"]
