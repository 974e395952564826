"""38-FZ content rules through the API: checked when a template is saved (obscenity refused,
soft findings need a recorded justification) and again at send by the policy."""

from __future__ import annotations

from sqlalchemy import select

from relay.storage.models import AuditEntry, Tenant

PHONE = "+375291234567"
NOON = "2026-01-15T12:00:00+03:00"


def save(client, tenant, body):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/templates", headers=tenant["headers"], json={"category": "marketing", **body}
    )


def send(client, tenant, event_id, text):  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json={
            "event_id": event_id,
            "type": "message.requested",
            "occurred_at": NOON,
            "customer": {"phone": PHONE},
            "message": {"text": text, "category": "marketing"},
        },
    )
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["messages"][0]


def test_obscenity_is_refused_whatever_the_justification(rt, client, tenant):
    resp = save(
        client,
        tenant,
        {
            "name": "rude",
            "sms_text": "shop-by: охуенные скидки!",
            "overrides": [{"rule": "superlative", "justification": "we mean it"}],
        },
    )
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "content_rule_violation" and "охуенные" in err["message"]
    assert "obscene" in err["fields"]["sms_text"][0]


def test_a_soft_finding_needs_a_justification_which_is_recorded(rt, client, tenant):
    body = {"name": "best", "sms_text": "shop-by — лучший магазин! Скидка на пиво 10%"}
    refused = save(client, tenant, body)
    assert refused.status_code == 422
    err = refused.get_json()["error"]
    assert err["code"] == "content_needs_justification"
    assert "superlative" in err["message"] and "лучший" in err["message"]
    assert "overrides" in err["fields"]
    overrides = [
        {"rule": "superlative", "justification": "Рейтинг Onliner 2025, диплом №12"},
        {"rule": "restricted_goods", "justification": "безалкогольное пиво 0,0%"},
    ]
    saved = save(client, tenant, {**body, "overrides": overrides})
    assert saved.status_code == 201, saved.get_json()
    [sms] = saved.get_json()["estimates"]
    by_rule = {f["rule"]: f for f in sms["findings"]}
    assert by_rule["superlative"]["words"] == ["лучший"] and by_rule["superlative"]["waived"]
    assert by_rule["restricted_goods"]["justification"] == "безалкогольное пиво 0,0%"
    with rt.session() as s:
        waivers = s.get(Tenant, tenant["id"]).settings["content_waivers"]
        assert {(w["rule"], tuple(w["words"])) for w in waivers} == {
            ("superlative", ("лучший",)),
            ("restricted_goods", ("пиво",)),
        }
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "template.content_override"))
        assert entry.after["waivers"][0]["template"] == "best" and entry.chain_hash
    # the same words again need no new justification
    again = client.put(
        "/v1/templates/best",
        headers=tenant["headers"],
        json={"category": "marketing", "sms_text": "shop-by — лучший магазин! Пиво −15%"},
    )
    assert again.status_code == 200, again.get_json()


def test_missing_sender_identification_is_a_soft_finding(client, tenant):
    refused = save(client, tenant, {"name": "anon", "sms_text": "Скидка 20% на всё"})
    assert refused.get_json()["error"]["code"] == "content_needs_justification"
    assert "no_sender" in refused.get_json()["error"]["message"]
    assert (
        save(client, tenant, {"name": "named", "sms_text": "shop-by: скидка 20%"}).status_code
        == 201
    )
    assert (
        save(client, tenant, {"name": "url", "sms_text": "Скидка 20%: shop.by/sale"}).status_code
        == 201
    )


def test_at_send_the_policy_blocks_what_is_not_justified(rt, client, tenant):
    assert (
        client.post(
            "/v1/consents",
            headers=tenant["headers"],
            json={"phone": PHONE, "granted": True, "source": "checkout_checkbox", "wording": "Да"},
        ).status_code
        == 201
    )
    blocked = send(client, tenant, "m1", "shop-by: самые низкие цены в городе")
    assert (blocked["status"], blocked["reason"]) == ("blocked", "content_rule")
    detail = client.get(f"/v1/messages/{blocked['id']}", headers=tenant["headers"]).get_json()
    assert "superlative" in str(detail)
    rude = send(client, tenant, "m2", "shop-by: охуенные цены")
    assert (rude["status"], rude["reason"]) == ("blocked", "content_rule")
    # once the tenant justified the words on a template, the same words may go
    assert (
        save(
            client,
            tenant,
            {
                "name": "low",
                "sms_text": "shop-by: самые низкие цены в городе",
                "overrides": [{"rule": "superlative", "justification": "мониторинг цен 01.2026"}],
            },
        ).status_code
        == 201
    )
    allowed = send(client, tenant, "m3", "shop-by: самые низкие цены в городе")
    assert allowed["status"] == "queued", allowed
