"""The issue's "Done when", end to end against the stand-in portal."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from relay.compliance.stoplist import add_stop
from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, api_headers, inbox, install
from tests.support.factories import run_worker, sandbox_sends


def test_install_stage_change_send_status_and_timeline_then_robot_sms_to_stop_listed_number(
    rt, web, standin, portal, daytime
):
    # 1. install from the marketplace: tenant, tokens, bindings, provider
    assert install(web, standin, portal).status_code == 200
    run_worker(rt)
    assert len(portal.bindings) == 8 and "relay_sms" in portal.senders

    # 2. the administrator maps "Сделка успешна" to a template on the app's page
    query, form = payloads.settings_open(standin, portal)
    html = web.post(f"{BASE}/settings?{urlencode(query)}", data=form).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    saved = web.post(
        f"{BASE}/settings/save",
        data={
            "member_id": portal.member_id,
            "form_token": token,
            "map|deal|WON": "b24_order_done",
            "sender": "",
            "provider_category": "transactional",
        },
    )
    assert saved.status_code == 200

    # 3. a manager moves a deal to WON; Bitrix24 calls our handler
    contact = portal.add_contact(phones=[("+7 900 123-45-67", "MOBILE")])
    deal = portal.add_deal(contact, stage="EXECUTING")
    portal.move_deal(deal, "WON")
    event = payloads.crm_event(standin, portal, "ONCRMDEALUPDATE", deal)
    assert web.post(f"{BASE}/events", data=event).status_code == 200
    run_worker(rt)

    # 4. decided and sent through the relay, delivered, and the deal's timeline says so
    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+79001234567" and f"№{deal}" in sent["text"]
    message_id = inbox(rt, "crm_event")[0].detail.split(": ")[1].split()[0]
    headers = api_headers(rt, portal.member_id)
    assert (
        web.get(f"/v1/messages/{message_id}", headers=headers).get_json()["status"] == "delivered"
    )
    [comment] = portal.comments
    assert comment["ENTITY_ID"] == deal and "доставлено" in comment["COMMENT"]

    # 5. the client is on the stop-list; a robot's SMS to them fails with the reason
    tenant_id = get_context("bitrix24").store.get("bitrix24", portal.member_id).tenant_id
    with rt.session() as s:
        add_stop(s, tenant_id, "+79001234567", "keyword", rt.now())
        s.commit()
    request = payloads.sms_request(
        standin, portal, "+79001234567", "Акция: -20%", deal_id=deal, robot=True
    )
    assert web.post(f"{BASE}/sms", data=request).status_code == 200
    run_worker(rt)

    assert len(sandbox_sends(rt)) == 1  # nothing more was sent
    assert [s["STATUS"] for s in portal.statuses if s["MESSAGE_ID"] == request["message_id"]] == [
        "failed"
    ]
    assert "стоп-лист" in portal.comments[-1]["COMMENT"]
    assert portal.comments[-1]["ENTITY_ID"] == deal
