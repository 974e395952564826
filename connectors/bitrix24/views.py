"""The connector's HTTP handlers under /connectors/bitrix24: install, events, SMS provider.

Event and provider handlers verify (`auth[application_token]` against the one saved for
`auth[member_id]`, in constant time), record the payload in the inbox without its tokens,
enqueue the job and answer at once: Bitrix24 does not resend an event that failed, so the
record is what makes sure nothing is lost. Install is the exception that calls out before
answering, because nothing unverified may be stored (see install.py).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connectors.bitrix24 import install as installer
from connectors.bitrix24.client import mask_member
from connectors.bitrix24.config import B24Config, NotConfigured
from connectors.bitrix24.crm import ENTITY_EVENTS
from connectors.bitrix24.defaults import PLATFORM
from connectors.bitrix24.errors import PortalUnavailable
from connectors.bitrix24.forms import FormError, unflatten
from connectors.bitrix24.page import installed_page
from connectors.bitrix24.smsprovider import parse_request
from shared.connector import ConnectorContext
from shared.installations import Installation

log = logging.getLogger("connectors.bitrix24.views")
JOBS = "connectors.bitrix24.jobs."


def error(code: str, message: str, status: int, fields: dict[str, Any] | None = None) -> Response:
    """The relay's error shape (docs/architecture.md, 'API')."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def form_fields() -> dict[str, Any]:
    """The posted form as nested dicts (FormError for keys Bitrix24 would never send)."""
    return unflatten(request.form.items(multi=True))


def check_token(ctx: ConnectorContext, fields: dict[str, Any]) -> Installation | Response:
    """The installation whose saved application_token the request carries, or a 4xx answer."""
    auth = found if isinstance(found := fields.get("auth"), dict) else {}
    member_id, token = auth.get("member_id"), auth.get("application_token")
    if not isinstance(member_id, str) or not member_id or not isinstance(token, str) or not token:
        return error(
            "missing_auth",
            "auth[member_id] and auth[application_token] are required",
            400,
            {"auth": ["member_id and application_token required"]},
        )
    inst = ctx.store.get(PLATFORM, member_id)
    saved = str(inst.secrets.get("application_token") or "") if inst else ""
    # compare even for an unknown portal, so timing does not tell which member_ids exist
    matches = hmac.compare_digest(saved.encode() or b"\0", token.encode())
    if inst is None or not saved or not matches:
        log.warning(
            "application_token rejected",
            extra={"member": mask_member(member_id), "known": inst is not None},
        )
        return error(
            "invalid_application_token",
            "the application token does not match this portal's installation",
            403,
        )
    return inst


def _record(
    ctx: ConnectorContext,
    member_id: str,
    kind: str,
    payload: dict[str, Any],
    job: str,
    dedupe: str | None = None,
) -> Response:
    record = ctx.inbox.record(PLATFORM, member_id, kind, payload, dedupe)
    if record is None:
        return jsonify({"status": "duplicate"})
    ctx.enqueue(JOBS + job, record.id)
    return jsonify({"status": "accepted", "record": record.id})


def create_routes(ctx: ConnectorContext, bp: Blueprint) -> None:
    """Install, event and provider handlers."""

    @bp.post("/install")
    def install_handler() -> Any:
        """The install page POST, or the ONAPPINSTALL event."""
        try:
            fields = form_fields()
        except FormError as exc:
            return error("invalid_form", str(exc), 400)
        return _install(ctx, fields, page="event" not in fields)

    @bp.post("/events")
    def events_handler() -> Any:
        """CRM and app events bound with event.bind."""
        try:
            fields = form_fields()
        except FormError as exc:
            return error("invalid_form", str(exc), 400)
        name = str(fields.get("event") or "").upper()
        if name == "ONAPPINSTALL":
            return _install(ctx, fields, page=False)
        inst = check_token(ctx, fields)
        if isinstance(inst, Response):
            return inst
        if not name:
            return error("missing_fields", "event is required", 400, {"event": ["required"]})
        ts = str(fields.get("ts") or "")
        if name == "ONAPPUNINSTALL":
            return _record(
                ctx,
                inst.account,
                "uninstall",
                {"event": name, "ts": ts},
                "uninstall",
                f"{inst.account}:uninstall:{ts}",
            )
        if inst.status == "disabled":  # uninstalled: the portal no longer has our app
            return error("installation_inactive", "the app was uninstalled from this portal", 403)
        if name == "ONAPPUPDATE":
            return _record(
                ctx, inst.account, "app_update", {"event": name, "ts": ts}, "bind_portal"
            )
        if name not in ENTITY_EVENTS:
            return jsonify({"status": "ignored", "event": name})
        data = found if isinstance(found := fields.get("data"), dict) else {}
        item = found if isinstance(found := data.get("FIELDS"), dict) else {}
        item_id = str(item.get("ID") or "")
        kind, type_id = ENTITY_EVENTS[name], str(item.get("ENTITY_TYPE_ID") or "")
        problems: dict[str, list[str]] = {}
        if not item_id.isdigit():
            problems["data[FIELDS][ID]"] = ["a numeric id is required"]
        if kind == "dynamic" and not (type_id.isdigit() and int(type_id) >= 128):
            problems["data[FIELDS][ENTITY_TYPE_ID]"] = ["a smart-process type id is required"]
        if problems:
            return error("invalid_event", f"{name} without a usable record id", 400, problems)
        payload = {
            "event": name,
            "kind": kind,
            "id": item_id,
            "ts": ts,
            "entity_type_id": int(type_id) if kind == "dynamic" else None,
            "handler_id": str(fields.get("event_handler_id") or ""),
        }
        return _record(ctx, inst.account, "crm_event", payload, "process_event")

    @bp.post("/sms")
    def sms_handler() -> Any:
        """messageservice HANDLER: a manager's or robot's SMS."""
        try:
            fields = form_fields()
        except FormError as exc:
            return error("invalid_form", str(exc), 400)
        inst = check_token(ctx, fields)
        if isinstance(inst, Response):
            return inst
        if inst.status == "disabled":
            return error("installation_inactive", "the app was uninstalled from this portal", 403)
        payload, problems = parse_request(fields)
        if payload is None:
            return error("missing_fields", "the provider request is incomplete", 400, problems)
        try:
            code = B24Config.from_context(ctx).provider_code
        except (NotConfigured, ValueError) as exc:
            return error("connector_not_configured", str(exc), 503)
        if not hmac.compare_digest(payload["code"].encode(), code.encode()):
            return error(
                "unknown_provider",
                "this provider code is not ours",
                400,
                {"code": [f"expected {code}"]},
            )
        return _record(
            ctx,
            inst.account,
            "sms",
            payload,
            "process_sms",
            f"{inst.account}:sms:{payload['message_id']}",
        )


def _install(ctx: ConnectorContext, fields: dict[str, Any], page: bool) -> Any:
    if page:
        query = {k: v for k, v in request.args.items()}
        claim, missing = installer.claim_from_page(query, fields)
    else:
        claim, missing = installer.claim_from_event(fields)
    if claim is None:
        return error("missing_fields", "the install request is incomplete", 400, missing)
    try:
        B24Config.from_context(ctx)
    except (NotConfigured, ValueError) as exc:
        return error("connector_not_configured", str(exc), 503)
    try:
        inst = installer.install(ctx, claim)
    except installer.NotVerified as exc:
        log.warning("install refused", extra={"member": mask_member(claim.member_id)})
        return error("install_not_verified", str(exc), 403)
    except PortalUnavailable as exc:
        return error("platform_unavailable", f"Bitrix24 did not answer: {exc.code}", 502)
    record = ctx.inbox.record(
        PLATFORM, inst.account, "install", {"source": claim.source, "domain": claim.domain}
    )
    if record is not None:
        ctx.enqueue(JOBS + "bind_portal", record.id)
    if page:
        return installed_page(inst.settings.get("domain", ""))
    return jsonify({"status": "installed", "tenant_id": inst.tenant_id})
