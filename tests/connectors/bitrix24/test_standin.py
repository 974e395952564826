"""The stand-in refuses what Bitrix24 documents as wrong, so a connector that drifts fails."""

from __future__ import annotations

import requests


def post(standin, method, data):  # type: ignore[no-untyped-def]
    response = requests.post(standin.client_endpoint + method, data=data, timeout=5)
    return response.status_code, response.json()


def test_rest_auth_errors_are_the_documented_ones(standin):
    portal = standin.add_portal()
    access, _ = standin.issue_tokens(portal)
    assert post(standin, "app.info", {}) == (
        401,
        {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"},
    )
    assert post(standin, "app.info", {"auth": "nope"})[1]["error"] == "invalid_token"
    standin.expire_access_tokens()
    assert post(standin, "app.info", {"auth": access})[1]["error"] == "expired_token"


def test_rest_parameter_checks(standin):
    portal = standin.add_portal()
    access, _ = standin.issue_tokens(portal)
    deal = portal.add_deal(None)
    upper = {
        "auth": access,
        "FIELDS[ENTITY_ID]": deal,
        "FIELDS[ENTITY_TYPE]": "deal",
        "FIELDS[COMMENT]": "x",
    }
    assert post(standin, "crm.timeline.comment.add", upper)[0] == 400  # lowercase only
    lower = {k.replace("FIELDS", "fields"): v for k, v in upper.items()}
    assert post(standin, "crm.timeline.comment.add", lower)[0] == 200
    status, body = post(
        standin,
        "messageservice.sender.add",
        {"auth": access, "CODE": "bad code!", "TYPE": "SMS", "HANDLER": "https://x", "NAME": "n"},
    )
    assert (status, body["error"]) == (400, "ERROR_SENDER_VALIDATION_FAILURE")
    status, body = post(
        standin, "event.bind", {"auth": access, "event": "ONNOTHING", "handler": "https://x"}
    )
    assert (status, body["error"]) == (400, "ERROR_EVENT_NOT_FOUND")
    assert post(standin, "crm.deal.get", {"auth": access, "id": "abc"})[1] == {
        "error": "",
        "error_description": "ID is not defined or invalid.",
    }
    assert post(standin, "no.such.method", {"auth": access})[0] == 404


def test_batch_resolves_references_and_reports_errors_per_command(standin):
    portal = standin.add_portal()
    access, _ = standin.issue_tokens(portal)
    deal = portal.add_deal(portal.add_contact())
    status, body = post(
        standin,
        "batch",
        {
            "auth": access,
            "halt": "0",
            "cmd[deal]": f"crm.deal.get?id={deal}",
            "cmd[contact]": "crm.contact.get?id=$result[deal][CONTACT_ID]",
            "cmd[missing]": "crm.deal.get?id=999999",
        },
    )
    assert status == 200
    assert body["result"]["result"]["contact"]["NAME"] == "Анна"
    assert body["result"]["result_error"]["missing"]["error_description"] == "Not found"


def test_oauth_refresh_is_single_use_and_checks_the_client(standin):
    portal = standin.add_portal()
    _, refresh = standin.issue_tokens(portal)
    params = {
        "grant_type": "refresh_token",
        "client_id": standin.client_id,
        "client_secret": "wrong",
        "refresh_token": refresh,
    }
    assert (
        requests.get(standin.oauth_url, params=params, timeout=5).json()["error"]
        == "invalid_client"
    )
    params["client_secret"] = standin.client_secret
    first = requests.get(standin.oauth_url, params=params, timeout=5).json()
    assert first["member_id"] == portal.member_id and first["refresh_token"] != refresh
    again = requests.get(standin.oauth_url, params=params, timeout=5)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert requests.post(standin.oauth_url, data=params, timeout=5).status_code == 400
