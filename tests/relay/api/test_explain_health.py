"""POST /v1/policy/explain, /messages/preview, /stoplist and /healthz."""

from __future__ import annotations

from redis import Redis

from relay.compliance.stoplist import add_stop


def test_explain_russian_mobile_at_night_defers_to_first_minute_allowed_everywhere(client, tenant):
    body = client.post(
        "/v1/policy/explain",
        headers=tenant["headers"],
        json={
            "phone": "+7 916 123-45-67",
            "category": "transactional",
            "at": "2026-01-15T21:30:00+00:00",
        },
    ).get_json()
    assert body["phone"] == "+79161234567"
    assert body["decision"] == "defer"
    assert body["reasons"][0]["code"] == "quiet_hours"
    assert body["not_before"] == "2026-01-16T05:00:00+00:00"
    assert len(body["timezones"]) == 16 and "Europe/Kaliningrad" in body["timezones"]


def test_explain_sends_nothing_and_validates(rt, client, tenant):
    h = tenant["headers"]
    assert (
        client.post(
            "/v1/policy/explain",
            headers=h,
            json={"phone": "+79161234567", "at": "2026-01-15T06:00:00+00:00"},
        ).get_json()["decision"]
        == "send"
    )
    for body, code, field in [
        ({"phone": "123"}, "invalid_phone", "phone"),
        ({"category": "marketing"}, "validation_error", "phone"),
        ({"phone": "+79161234567", "category": "spam"}, "validation_error", "category"),
        ({"phone": "+79161234567", "channel": "fax"}, "validation_error", "channel"),
        ({"phone": "+79161234567", "at": "yesterday"}, "validation_error", "at"),
        ({"phone": "+79161234567", "at": "2026-01-15T06:00:00"}, "validation_error", "at"),
    ]:
        resp = client.post("/v1/policy/explain", headers=h, json=body)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (422, code)
        assert field in resp.get_json()["error"]["fields"], body
    assert rt.redis.llen("relay:sandbox:sent") == 0


def test_preview_counts_segments_without_sending(rt, client, tenant):
    body = client.post(
        "/v1/messages/preview",
        headers=tenant["headers"],
        json={"text": "Заказ №{{ n }} готов", "data": {"n": 727}, "channel": "sms"},
    ).get_json()
    assert body["text"] == "Заказ №727 готов"
    assert (body["encoding"], body["segments"], body["characters"]) == ("ucs2", 1, 16)
    long = client.post(
        "/v1/messages/preview", headers=tenant["headers"], json={"text": "a" * 161}
    ).get_json()
    assert (long["encoding"], long["segments"], [len(p) for p in long["parts"]]) == (
        "gsm7",
        2,
        [153, 8],
    )
    bad = client.post("/v1/messages/preview", headers=tenant["headers"], json={"text": "{{ x"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "template_error"


def test_stoplist_lookup_is_per_tenant(rt, client, tenant):
    from tests.support.factories import make_tenant

    other = make_tenant(rt, "other-shop", "BY")
    with rt.session() as s:
        add_stop(s, tenant["id"], "+375291234567", "admin", rt.now(), note="called us")
        s.commit()
    mine = client.get("/v1/stoplist?phone=80291234567", headers=tenant["headers"]).get_json()
    assert [(e["phone"], e["channel"], e["source"]) for e in mine["items"]] == [
        ("+375291234567", "all", "admin")
    ]
    theirs = client.get("/v1/stoplist?phone=80291234567", headers=other["headers"]).get_json()
    assert theirs == {"items": [], "next_cursor": None}


def test_healthz_ok_and_503_when_redis_is_down(rt, client):
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "checks": {"db": "ok", "redis": "ok"},
    }
    rt.redis = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"].startswith("error")


def test_preview_phone_follows_the_tenants_supported_countries(client, tenant):
    h = tenant["headers"]
    ok = client.post(
        "/v1/messages/preview", headers=h, json={"text": "Привет", "phone": "80291234567"}
    )
    assert ok.status_code == 200 and ok.get_json()["price_basis"] == "operator:BY:Velcom"
    german = client.post(
        "/v1/messages/preview", headers=h, json={"text": "Hallo", "phone": "+49 151 23456789"}
    )
    assert german.status_code == 422
    assert german.get_json()["error"]["code"] == "unsupported_country"
    assert "phone" in german.get_json()["error"]["fields"]
