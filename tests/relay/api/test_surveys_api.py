"""Surveys with only an API key, over HTTP: create a survey, attach it to a flow, let the flow
send it, answer it, read the report. Nothing here touches the database directly."""

from __future__ import annotations

from tests.support.factories import run_worker

PHONE = "+375291234567"
NOON = "2026-01-15T12:00:00+03:00"


def test_a_survey_is_created_attached_to_a_flow_and_reported_through_http(rt, client, tenant):
    h = tenant["headers"]
    survey = client.post(
        "/v1/surveys",
        headers=h,
        json={"name": "nps-delivered", "window_hours": 48, "thanks_text": "Спасибо за оценку!"},
    )
    assert survey.status_code == 201, survey.get_json()
    survey = survey.get_json()
    assert survey["name"] == "nps-delivered" and survey["window_hours"] == 48
    assert [s["name"] for s in client.get("/v1/surveys", headers=h).get_json()["items"]] == [
        "nps-delivered"
    ]

    template = client.post(
        "/v1/templates",
        headers=h,
        json={
            "name": "nps_question",
            "category": "marketing",
            "sms_text": "shop-by: оцените заказ {{ order.id }} от 0 до 10 ответом на это SMS.",
        },
    )
    assert template.status_code == 201, template.get_json()
    flow = {
        "name": "nps-delivered",
        "trigger": "order.status_changed",
        "conditions": {"order.status": "delivered-nps"},
        "template": "nps_question",
        "category": "marketing",
        "survey": "nps-delivered",
    }
    created = client.post("/v1/flows", headers=h, json=flow)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["survey"] == "nps-delivered"
    assert client.get("/v1/flows/nps-delivered", headers=h).get_json()["survey"] == "nps-delivered"
    # a survey nobody created is refused, naming the field
    bad = client.post("/v1/flows", headers=h, json={**flow, "name": "x", "survey": "nope"})
    assert bad.status_code == 422 and "survey" in bad.get_json()["error"]["fields"]
    # detaching and attaching again through PUT
    body = {k: v for k, v in flow.items() if k != "name"}
    assert (
        client.put("/v1/flows/nps-delivered", headers=h, json={**body, "survey": None}).get_json()[
            "survey"
        ]
        is None
    )
    assert (
        client.put("/v1/flows/nps-delivered", headers=h, json=body).get_json()["survey"]
        == "nps-delivered"
    )

    consent = client.post(
        "/v1/consents",
        headers=h,
        json={"phone": PHONE, "granted": True, "source": "checkout_checkbox", "wording": "Да"},
    )
    assert consent.status_code == 201
    event = {
        "event_id": "o-1-nps",
        "type": "order.status_changed",
        "occurred_at": NOON,
        "source": {"platform": "woocommerce", "account": "shop.example.by"},
        "customer": {"phone": PHONE},
        "order": {"id": "727", "status": "delivered-nps"},
    }
    sent = client.post("/v1/events", headers=h, json=event)
    assert sent.status_code == 202, sent.get_json()
    [question] = sent.get_json()["messages"]
    run_worker(rt)
    assert client.get(f"/v1/messages/{question['id']}", headers=h).get_json()["status"] in (
        "sent",
        "delivered",
    )

    answer = client.post(
        "/v1/sandbox/inbound", headers=h, json={"from": PHONE, "text": "9, всё отлично"}
    )
    assert answer.status_code == 202
    run_worker(rt)

    reader = client.post("/v1/keys", headers=h, json={"scopes": ["messages:read"]}).get_json()
    report = client.get(
        f"/v1/surveys/{survey['id']}/report",
        headers={"Authorization": f"Bearer {reader['key']}"},
    )
    assert report.status_code == 200, report.get_json()
    data = report.get_json()
    assert (data["responses"], data["promoters"], data["nps"], data["sent"]) == (1, 1, 100, 1)
    assert data["answers"][0]["comment"] == "всё отлично"
    assert data["answers"][0]["message_id"] == question["id"]
    inbound = client.get("/v1/inbound", headers=h).get_json()["items"]
    assert inbound[0]["handled_as"] == "survey_answer"
