"""Helpers for the amoCRM connector tests: constants, install, webhook bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.connectors.amocrm.standin import AmoStandIn

CLIENT_ID = "6a2d4741-1111-2222-3333-92277723dcea"
CLIENT_SECRET = "PZp1wm7VpAUBvpTzADj4CRHjmuvRR4PwVS7EqNvpMglIWK8uy6KWSgvdjY"
REDIRECT_URI = "https://relay.example.com/connectors/amocrm/oauth/callback"
DOMAIN = "example.amocrm.ru"
ACCOUNT_ID = 29000001
PIPELINE, NEW, PAID, WON = 7010970, 58840350, 58841526, 142


def connector_config(amo: AmoStandIn, **extra: Any) -> dict[str, Any]:
    """The connector config pointing every account at the stand-in."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "api_base_override": amo.url,
        **extra,
    }


def install(client: Any, amo: AmoStandIn, tenant: dict[str, Any]) -> dict[str, Any]:
    """Run the OAuth install against the stand-in; returns the redirect handler's answer."""
    start = client.post("/connectors/amocrm/install", headers=tenant["headers"])
    assert start.status_code == 200, start.get_json()
    state = start.get_json()["state"]
    resp = client.get(
        "/connectors/amocrm/oauth/callback",
        query_string={
            "code": amo.issue_code(),
            "referer": DOMAIN,
            "state": state,
            "from_widget": "0",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def status_pairs(
    lead_id: int,
    status_id: int,
    old_status_id: int,
    *,
    pipeline_id: int = PIPELINE,
    account_id: int = ACCOUNT_ID,
    subdomain: str = "example",
    last_modified: int = 1768478400,
    index: int = 0,
) -> list[tuple[str, str]]:
    """A lead status change exactly as amoCRM posts it (string numbers, custom fields)."""
    p = f"leads[status][{index}]"
    return [
        (f"{p}[id]", str(lead_id)),
        (f"{p}[name]", "Заказ с сайта"),
        (f"{p}[status_id]", str(status_id)),
        (f"{p}[old_status_id]", str(old_status_id)),
        (f"{p}[price]", "1500"),
        (f"{p}[responsible_user_id]", "504141"),
        (f"{p}[last_modified]", str(last_modified)),
        (f"{p}[modified_user_id]", "504141"),
        (f"{p}[created_user_id]", "504141"),
        (f"{p}[date_create]", "1768470000"),
        (f"{p}[pipeline_id]", str(pipeline_id)),
        (f"{p}[old_pipeline_id]", str(pipeline_id)),
        (f"{p}[tags][0][id]", "80147"),
        (f"{p}[tags][0][name]", "сайт"),
        (f"{p}[account_id]", str(account_id)),
        (f"{p}[custom_fields][0][id]", "66339"),
        (f"{p}[custom_fields][0][name]", "Источник"),
        (f"{p}[custom_fields][0][values][0][value]", "Сайт"),
        (f"{p}[custom_fields][0][values][0][enum]", "139517"),
        (f"{p}[custom_fields][1][id]", "72333"),
        (f"{p}[custom_fields][1][name]", "Дата доставки"),
        (f"{p}[custom_fields][1][values][0]", "1768521600"),
        (f"{p}[created_at]", "1768470000"),
        (f"{p}[updated_at]", str(last_modified)),
    ]


def account_pairs(
    account_id: int = ACCOUNT_ID, subdomain: str = "example"
) -> list[tuple[str, str]]:
    """The account block amoCRM appends to every webhook."""
    return [
        ("account[subdomain]", subdomain),
        ("account[id]", str(account_id)),
        ("account[_links][self]", f"https://{subdomain}.amocrm.ru"),
    ]


def form(pairs: list[tuple[str, str]]) -> str:
    """URL-encode like amoCRM (UTF-8, + for spaces)."""
    return urlencode(pairs)


def post_webhook(client: Any, path: str, pairs: list[tuple[str, str]]) -> Any:
    """POST a webhook body the way amoCRM does."""
    return client.post(
        path,
        data=form(pairs),
        content_type="application/x-www-form-urlencoded",
        headers={"User-Agent": "amoCRM-WebHook-client/1.0"},
    )
