"""What Bitrix24 posts to the app, built the way its documentation shows it (flattened form
fields, string numbers, `ts` as epoch seconds):

- install page: settings/oauth/simple-way.md (query DOMAIN, PROTOCOL, LANG, APP_SID; form
  AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, APPLICATION_TOKEN, member_id, status …)
- ONAPPINSTALL / ONAPPUNINSTALL: api-reference/common/events/on-app-(un)install.md
- CRM events: api-reference/events/index.md (`event`, `event_handler_id`, `data[FIELDS][ID]`,
  `ts`, `auth[...]`)
- SMS provider HANDLER: messageservice-sender-add.md and the "connect an SMS provider" tutorial
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.connectors.bitrix24.portal import Portal
from tests.connectors.bitrix24.standin import Bitrix24StandIn


def flat(prefix: str, value: Any) -> dict[str, str]:
    """`{"a": {"b": 1}}` under `p` → `{"p[a][b]": "1"}` (PHP's form encoding)."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, inner in value.items():
            out.update(flat(f"{prefix}[{key}]", inner))
        return out
    if isinstance(value, list):
        return flat(prefix, {str(i): v for i, v in enumerate(value)})
    return {prefix: "" if value is None else str(value)}


def auth_fields(
    standin: Bitrix24StandIn,
    portal: Portal,
    tokens: bool = True,
    application_token: str | None = None,
) -> dict[str, str]:
    """The `auth[...]` block. Without `tokens` (a robot's action, or uninstall) no OAuth
    tokens come, only the portal and the application token."""
    auth: dict[str, Any] = {
        "domain": portal.domain,
        "server_endpoint": "https://oauth.bitrix.info/rest/",
        "client_endpoint": standin.client_endpoint,
        "member_id": portal.member_id,
        "application_token": application_token or portal.application_token,
    }
    if tokens:
        access, _ = standin.issue_tokens(portal)
        auth.update(access_token=access, expires_in="3600", scope="crm,messageservice", status="F")
    return flat("auth", auth)


def install_page(
    standin: Bitrix24StandIn, portal: Portal, lang: str = "ru"
) -> tuple[dict[str, str], dict[str, str]]:
    """(query, form) of the install page POST the administrator's browser sends."""
    access, refresh = standin.issue_tokens(portal)
    query = {
        "DOMAIN": portal.domain,
        "PROTOCOL": "1",
        "LANG": lang,
        "APP_SID": secrets.token_hex(16),
    }
    form = {
        "AUTH_ID": access,
        "AUTH_EXPIRES": "3600",
        "REFRESH_ID": refresh,
        "SERVER_ENDPOINT": "https://oauth.bitrix.info/rest/",
        "APPLICATION_TOKEN": portal.application_token,
        "APPLICATION_SCOPE": "crm,messageservice,placement",
        "member_id": portal.member_id,
        "status": "F",
        "PLACEMENT": "DEFAULT",
        "PLACEMENT_OPTIONS": "{}",
    }
    return query, form


def on_app_install(standin: Bitrix24StandIn, portal: Portal, lang: str = "ru") -> dict[str, str]:
    """The ONAPPINSTALL event with both tokens and the application token."""
    access, refresh = standin.issue_tokens(portal)
    auth = {
        "domain": portal.domain,
        "scope": "crm,messageservice",
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": "3600",
        "server_endpoint": "https://oauth.bitrix.info/rest/",
        "status": "F",
        "client_endpoint": standin.client_endpoint,
        "member_id": portal.member_id,
        "application_token": portal.application_token,
    }
    return {
        "event": "ONAPPINSTALL",
        **flat("data", {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": lang}),
        "ts": str(int(time.time())),
        **flat("auth", auth),
    }


def on_app_uninstall(standin: Bitrix24StandIn, portal: Portal) -> dict[str, str]:
    return {
        "event": "ONAPPUNINSTALL",
        **flat("data", {"LANGUAGE_ID": "ru", "CLEAN": "0"}),
        "ts": str(int(time.time())),
        **auth_fields(standin, portal, tokens=False),
    }


def on_app_update(standin: Bitrix24StandIn, portal: Portal) -> dict[str, str]:
    return {
        "event": "ONAPPUPDATE",
        **flat("data", {"VERSION": "2", "PREVIOUS_VERSION": "1", "LANGUAGE_ID": "ru"}),
        "ts": str(int(time.time())),
        **auth_fields(standin, portal),
    }


def crm_event(
    standin: Bitrix24StandIn,
    portal: Portal,
    event: str,
    item_id: str,
    entity_type_id: int | None = None,
    tokens: bool = True,
    application_token: str | None = None,
) -> dict[str, str]:
    """ONCRMDEALUPDATE and friends: only the id comes (plus ENTITY_TYPE_ID for smart
    processes)."""
    fields: dict[str, Any] = {"ID": item_id}
    if entity_type_id is not None:
        fields["ENTITY_TYPE_ID"] = str(entity_type_id)
    return {
        "event": event,
        "event_handler_id": "185",
        **flat("data", {"FIELDS": fields}),
        "ts": str(int(time.time())),
        **auth_fields(standin, portal, tokens, application_token),
    }


def sms_request(
    standin: Bitrix24StandIn,
    portal: Portal,
    phone: str,
    text: str,
    deal_id: str | None = None,
    contact_id: str | None = None,
    robot: bool = False,
    code: str = "relay_sms",
) -> dict[str, str]:
    """What Bitrix24 posts to the provider HANDLER: from a deal card (`module_id=crm` with
    bindings) or from a robot (`module_id=bizproc` with document_id)."""
    assert code in portal.senders, "Bitrix24 calls HANDLER only after messageservice.sender.add"
    message_id = secrets.token_hex(16)
    portal.messages.add(message_id)
    body: dict[str, str] = {
        "type": "SMS",
        "code": code,
        "message_id": message_id,
        "message_to": phone,
        "message_body": text,
        "ts": str(int(time.time())),
        **flat("properties", {"phone_number": phone, "message_text": text}),
    }
    if robot:
        body.update(module_id="bizproc", workflow_id=secrets.token_hex(8))
        body.update(flat("document_id", ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"]))
        body.update(flat("document_type", ["crm", "CCrmDocumentDeal", "DEAL"]))
    else:
        bindings = []
        if deal_id:
            bindings.append({"OWNER_TYPE_ID": "2", "OWNER_ID": deal_id})
        if contact_id:
            bindings.append({"OWNER_TYPE_ID": "3", "OWNER_ID": contact_id})
        body.update(module_id="crm", **flat("bindings", bindings))
    body.update(auth_fields(standin, portal, tokens=not robot))
    return body


def settings_open(
    standin: Bitrix24StandIn, portal: Portal
) -> tuple[dict[str, str], dict[str, str]]:
    """The placement POST that opens the app's page in the portal."""
    query, form = install_page(standin, portal)
    return query, form
