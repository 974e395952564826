"""The settings page: the app's page in the portal, opened with the placement POST.

Opening (`POST /settings` with `AUTH_ID`, `member_id`, `DOMAIN`): the user's token is checked
with `app.info` against the portal's stored endpoint, then the page is rendered with a form
token signed with the installation's own key (HMAC-SHA256, two hours). Saving and the test
send check that token in constant time; nothing else identifies the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from connectors.bitrix24.client import Bitrix24Client
from connectors.bitrix24.config import NotConfigured
from connectors.bitrix24.defaults import PLATFORM, default_settings
from connectors.bitrix24.errors import B24Error, PortalUnavailable
from connectors.bitrix24.flows import CATEGORIES, flows_document
from connectors.bitrix24.mapping import event_id
from connectors.bitrix24.page import settings_page
from connectors.bitrix24.views import error
from shared.client import RelayClientError
from shared.connector import ConnectorContext
from shared.events import Customer, Event, MessageRequest, Source
from shared.installations import Installation

TOKEN_LIFETIME = 7200
ENTITY_LABELS = {"deal": "Сделка", "lead": "Лид"}
_ENTITY = re.compile(r"^(deal|lead|dynamic_\d{3,6})$")
_STAGE = re.compile(r"^[A-Za-z0-9_:\-]{1,50}$")
_FIELD = re.compile(r"^(UF_CRM_[A-Za-z0-9_]{1,60}|ufCrm[A-Za-z0-9_]{1,60})$")
_SENDER = re.compile(r"^[A-Za-z0-9 ._-]{1,11}$")


def sign(inst: Installation, expires: int) -> str:
    """`<expires>.<hmac>` over the member_id with the installation's form key."""
    key = str(inst.secrets.get("form_key") or "").encode()
    mac = hmac.new(key, f"{inst.account}|{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def token_ok(inst: Installation, token: str) -> bool:
    """True for an unexpired token this installation signed."""
    stamp, _, _mac = token.partition(".")
    if not stamp.isdigit() or int(stamp) < time.time() or not inst.secrets.get("form_key"):
        return False
    return hmac.compare_digest(sign(inst, int(stamp)).encode(), token.encode())


def load_stages(client: Bitrix24Client) -> list[dict[str, str]]:
    """Deal stages of every pipeline and lead statuses, as the portal names them."""
    results, _errors = client.batch(
        {
            "categories": ("crm.category.list", {"entityTypeId": 2}),
            "deal": (
                "crm.status.list",
                {"filter": {"ENTITY_ID": "DEAL_STAGE"}, "order": {"SORT": "ASC"}},
            ),
            "lead": (
                "crm.status.list",
                {"filter": {"ENTITY_ID": "STATUS"}, "order": {"SORT": "ASC"}},
            ),
        }
    )
    cats = (
        (results.get("categories") or {}).get("categories")
        if isinstance(results.get("categories"), dict)
        else []
    )
    extra = [c for c in cats or [] if isinstance(c, dict) and str(c.get("id")) not in ("", "0")]
    if extra:
        more, _ = client.batch(
            {
                f"deal_{c['id']}": (
                    "crm.status.list",
                    {"filter": {"ENTITY_ID": f"DEAL_STAGE_{c['id']}"}, "order": {"SORT": "ASC"}},
                )
                for c in extra[:49]
            }
        )
        results.update(more)
    rows = []
    for key, entries in results.items():
        if key == "categories" or not isinstance(entries, list):
            continue
        entity = "lead" if key == "lead" else "deal"
        for entry in entries:
            if isinstance(entry, dict) and entry.get("STATUS_ID"):
                rows.append(
                    {
                        "entity": entity,
                        "stage": str(entry["STATUS_ID"]),
                        "name": str(entry.get("NAME") or entry["STATUS_ID"]),
                    }
                )
    return rows


def page_context(
    ctx: ConnectorContext, inst: Installation, stages: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    """Everything the page template needs."""
    s = {**default_settings(), **inst.settings}
    mapped = s.get("stage_templates") or {}
    seen = {(r["entity"], r["stage"]) for r in stages}
    rows = list(stages) + [
        {"entity": e, "stage": st, "name": st}
        for e, m in mapped.items()
        for st in m
        if (e, st) not in seen
    ]
    for row in rows:
        row["template"] = mapped.get(row["entity"], {}).get(row["stage"], "")
        row["entity_label"] = ENTITY_LABELS.get(row["entity"], row["entity"])
    return {
        "domain": s.get("domain", ""),
        "member_id": inst.account,
        "form_token": sign(inst, int(time.time()) + TOKEN_LIFETIME),
        "save_url": ctx.url_for("settings/save"),
        "test_url": ctx.url_for("settings/test"),
        "stages": rows,
        "template_names": sorted(s["templates"]),
        "templates": sorted(s["templates"].items()),
        "categories": CATEGORIES,
        "s": s,
        "errors": [],
        "notice": "",
        "stage_note": "",
        "test_result": None,
        "cabinet_url": ctx.cabinet_link(inst.tenant_id),
        **extra,
    }


def parse_settings(form: Any, current: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The posted settings merged over the current ones, and what is wrong with them."""
    errors: list[str] = []
    new = {**default_settings(), **current}
    templates = {name: dict(spec) for name, spec in new["templates"].items()}
    for name in templates:
        text = form.get(f"tpl_text|{name}")
        cat = form.get(f"tpl_cat|{name}", templates[name].get("category"))
        if text is not None:
            if not text.strip() or len(text) > 1000:
                errors.append(f"Шаблон {name}: текст от 1 до 1000 символов.")
            templates[name]["text"] = text.strip()
        if cat not in CATEGORIES:
            errors.append(f"Шаблон {name}: категория {cat!r} неизвестна.")
        templates[name]["category"] = cat
    mapping: dict[str, dict[str, str]] = {}
    rows = [(k.split("|", 2), v) for k, v in form.items() if k.startswith("map|")]
    new_entity, new_stage = form.get("new_entity", "").strip(), form.get("new_stage", "").strip()
    if new_entity or new_stage:
        rows.append((["map", new_entity, new_stage], form.get("new_template", "")))
    for parts, template in rows:
        if len(parts) != 3 or not template:
            continue
        entity, stage = parts[1], parts[2]
        if not _ENTITY.match(entity) or not _STAGE.match(stage):
            errors.append(f"Стадия {entity}/{stage}: неверный объект или код стадии.")
        elif template not in templates:
            errors.append(f"Стадия {stage}: шаблона {template!r} нет.")
        else:
            mapping.setdefault(entity, {})[stage] = template
    field = form.get("consent_field", "").strip()
    if field and not _FIELD.match(field):
        errors.append("Поле согласия должно быть пользовательским полем UF_CRM_….")
    sender = form.get("sender", "").strip()
    if sender and not _SENDER.match(sender):
        errors.append("Имя отправителя: до 11 латинских букв, цифр, пробел, точка, - и _.")
    category = form.get("provider_category", "transactional")
    if category not in CATEGORIES:
        errors.append(f"Категория SMS менеджеров {category!r} неизвестна.")
    new.update(
        templates=templates,
        stage_templates=mapping,
        consent_field=field,
        consent_wording=form.get("consent_wording", "").strip()[:1000],
        sender=sender,
        stage_urgent=form.get("stage_urgent") == "1",
        provider_category=category,
    )
    return new, errors


def _posted_stages(form: Any) -> list[dict[str, str]]:
    return [
        {"entity": k.split("|", 2)[1], "stage": k.split("|", 2)[2], "name": v}
        for k, v in form.items()
        if k.startswith("name|") and k.count("|") >= 2
    ]


def create_routes(ctx: ConnectorContext, bp: Blueprint) -> None:
    """The settings page routes."""

    def installation(member_id: str) -> Installation | Response:
        inst = ctx.store.get(PLATFORM, member_id) if member_id else None
        if inst is None:
            return error("unknown_portal", "the app is not installed on this portal", 403)
        if inst.status != "active":
            return error(
                "installation_inactive",
                f"the installation is {inst.status}: reinstall the app",
                403,
            )
        return inst

    def signed() -> Installation | Response:
        inst = installation(request.form.get("member_id", ""))
        if isinstance(inst, Response):
            return inst
        if not token_ok(inst, request.form.get("form_token", "")):
            return error("invalid_form_token", "reopen the app: the form has expired", 403)
        return inst

    @bp.route("/settings", methods=["GET", "POST"])
    def settings_open() -> Any:
        member_id = request.form.get("member_id") or request.args.get("member_id", "")
        auth_id = request.form.get("AUTH_ID", "")
        if not member_id or not auth_id:
            return error(
                "missing_fields",
                "open the app from Bitrix24",
                400,
                {
                    k: ["required"]
                    for k, v in (("member_id", member_id), ("AUTH_ID", auth_id))
                    if not v
                },
            )
        inst = installation(member_id)
        if isinstance(inst, Response):
            return inst
        endpoint = str(inst.secrets.get("client_endpoint") or "")
        try:
            Bitrix24Client.for_token(ctx, member_id, endpoint, auth_id).call("app.info")
        except (NotConfigured, ValueError) as exc:
            return error("connector_not_configured", str(exc), 503)
        except PortalUnavailable as exc:
            return error("platform_unavailable", f"Bitrix24 did not answer: {exc.code}", 502)
        except B24Error as exc:
            return error("invalid_auth", f"Bitrix24 did not accept the token: {exc.code}", 403)
        note = ""
        try:
            stages = load_stages(Bitrix24Client.for_installation(ctx, member_id))
        except B24Error as exc:
            stages, note = [], f"Стадии не загрузились ({exc.code}): коды можно ввести вручную."
        return settings_page(page_context(ctx, inst, stages, stage_note=note))

    @bp.post("/settings/save")
    def settings_save() -> Any:
        inst = signed()
        if isinstance(inst, Response):
            return inst
        new, errors = parse_settings(request.form, inst.settings)
        if not errors:
            try:
                ctx.tenants.load_flows(inst.tenant_id, flows_document(new, inst.settings))
            except Exception as exc:  # the relay refused a template: show its words
                errors.append(f"Relay не принял шаблоны: {getattr(exc, 'message', exc)}")
        stages = _posted_stages(request.form)
        if errors:
            return settings_page(page_context(ctx, inst, stages, errors=errors), 422)
        saved = ctx.store.save(replace(inst, settings=new))
        return settings_page(page_context(ctx, saved, stages, notice="Настройки сохранены."))

    @bp.post("/settings/test")
    def settings_test() -> Any:
        inst = signed()
        if isinstance(inst, Response):
            return inst
        phone, text = request.form.get("phone", "").strip(), request.form.get("text", "").strip()
        if not phone or not text:
            return settings_page(
                page_context(ctx, inst, [], errors=["Для тестовой отправки нужны номер и текст."]),
                422,
            )
        try:
            event = Event(
                event_id=event_id(inst.account, "test", secrets.token_hex(8)),
                type="message.requested",
                occurred_at=datetime.now(UTC),
                source=Source(PLATFORM, inst.account),
                customer=Customer(phone=phone),
                message=MessageRequest(
                    text=text[:2000], sender=inst.settings.get("sender") or None
                ),
                data={"bitrix24": {"kind": "test"}},
            )
            result = ctx.client_for(inst.tenant_id).submit(event)
        except (RelayClientError, ValueError) as exc:
            outcome = {"failed": True, "text": f"Не принято: {getattr(exc, 'code', '')} {exc}"}
            return settings_page(page_context(ctx, inst, [], test_result=outcome), 422)
        msg = result.messages[0] if result.messages else {}
        outcome = {
            "failed": msg.get("status") == "blocked",
            "text": f"Сообщение {msg.get('id')}: {msg.get('status')}"
            + (f" ({msg['reason']})" if msg.get("reason") else ""),
        }
        return settings_page(page_context(ctx, inst, [], test_result=outcome))
