"""The consent source named in the message, end to end: a tenant option; the line comes from
the ledger's grant and goes out in the text the gateway gets, within the segment budget."""

from __future__ import annotations

from tests.support.factories import run_worker, sandbox_sends

PHONE = "+375291234567"
NOON = "2026-01-15T12:00:00+03:00"


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


def test_marketing_ends_with_where_and_when_the_person_agreed(rt, client, tenant):
    h = tenant["headers"]
    assert (
        client.post(
            "/v1/consents",
            headers=h,
            json={"phone": PHONE, "granted": True, "source": "checkout_checkbox", "wording": "Да"},
        ).status_code
        == 201
    )
    plain = send(client, tenant, "before", "shop-by: −10%")
    assert client.get(f"/v1/messages/{plain['id']}", headers=h).get_json()["text"] == (
        "shop-by: −10%\nОтказ: STOP"
    )
    settings = client.patch(
        "/v1/settings", headers=h, json={"consent_source_line": True, "frequency_cap": 10}
    )
    assert settings.status_code == 200 and settings.get_json()["consent_source_line"] is True
    line = "Вы подписались при оформлении заказа 15.01.2026"
    short = send(client, tenant, "short", "Кофе −5%")  # 20 UCS-2 units with the footer
    long_text = "shop-by: " + "скидки " * 7  # one part with the footer; the line would add one
    long_ = send(client, tenant, "long", long_text)
    run_worker(rt)
    short_text = client.get(f"/v1/messages/{short['id']}", headers=h).get_json()["text"]
    assert short_text == f"Кофе −5%\nОтказ: STOP\n{line}"
    long_sent = client.get(f"/v1/messages/{long_['id']}", headers=h).get_json()["text"]
    assert line not in long_sent and long_sent.endswith("Отказ: STOP"), repr(long_sent)
    # what the gateway got
    assert any(s.get("text", "").endswith(line) for s in sandbox_sends(rt)), sandbox_sends(rt)
