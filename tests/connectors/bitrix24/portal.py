"""The data of one stand-in Bitrix24 portal and the REST methods the connector uses.

Shapes follow the REST documentation (github.com/bitrix-tools/b24-rest-docs): numbers as
strings ("ID": "42"), PHONE as `[{"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}]`, times as ISO 8601
with an offset, `crm.stagehistory.list` answering `{"items": [...]}`, `crm.item.get` answering
`{"item": {...}}` in camelCase. Wrong parameters get the documented error.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MSK = timedelta(hours=3)
KNOWN_EVENTS = {
    "ONCRMDEALADD",
    "ONCRMDEALUPDATE",
    "ONCRMLEADADD",
    "ONCRMLEADUPDATE",
    "ONCRMDYNAMICITEMADD",
    "ONCRMDYNAMICITEMUPDATE",
    "ONAPPUNINSTALL",
    "ONAPPUPDATE",
    "ONAPPINSTALL",
    "ONCRMCONTACTUPDATE",
}
PROVIDER_STATUSES = {"queued", "sent", "delivered", "undelivered", "failed"}
CODE_RE = re.compile(r"^[A-Za-z0-9._-]+$")
FINAL_STAGES = {"WON", "LOSE", "APOLOGY", "CONVERTED", "JUNK"}


class ApiError(Exception):
    """A documented Bitrix24 error answer."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.status, self.code, self.description = status, code, description


def now_iso(at: datetime | None = None) -> str:
    """Bitrix24's datetime format, in Moscow time like a Russian portal."""
    moment = (at or datetime.now(UTC)).astimezone(UTC) + MSK
    return moment.strftime("%Y-%m-%dT%H:%M:%S+03:00")


def _id(params: dict[str, Any], *names: str) -> str:
    for name in names:
        value = str(params.get(name) or "")
        if value.isdigit() and int(value) > 0:
            return value
    raise ApiError(400, "", "ID is not defined or invalid.")


@dataclass
class Portal:
    """One portal's CRM, bindings, provider registrations and what was written to it."""

    member_id: str
    domain: str
    application_token: str = field(default_factory=lambda: secrets.token_hex(16))
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, str]] = field(default_factory=list)
    senders: dict[str, dict[str, str]] = field(default_factory=dict)
    bindings: list[dict[str, str]] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)
    deal_stages: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("NEW", "Новая"),
            ("PREPARATION", "Подготовка"),
            ("EXECUTING", "В работе"),
            ("WON", "Сделка успешна"),
            ("LOSE", "Сделка провалена"),
        ]
    )
    _ids: Any = field(default_factory=lambda: itertools.count(41))

    # --- building CRM data (what a manager would do in the portal) --------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_contact(
        self, name: str = "Анна", phones: list[tuple[str, str]] | None = None, **extra: Any
    ) -> str:
        cid = self.next_id()
        contact = {
            "ID": cid,
            "NAME": name,
            "LAST_NAME": "Иванова",
            "HAS_PHONE": "N",
            "DATE_CREATE": now_iso(),
            "DATE_MODIFY": now_iso(),
            **extra,
        }
        if phones:  # PHONE is absent when empty, as crm.contact.get documents
            contact["HAS_PHONE"] = "Y"
            contact["PHONE"] = [
                {"ID": self.next_id(), "VALUE_TYPE": kind, "VALUE": value, "TYPE_ID": "PHONE"}
                for value, kind in phones
            ]
        self.contacts[cid] = contact
        return cid

    def add_deal(
        self,
        contact_id: str | None,
        stage: str = "NEW",
        title: str = "Заказ",
        opportunity: str = "1500.00",
        currency: str = "RUB",
        **extra: Any,
    ) -> str:
        did = self.next_id()
        category = stage.split(":")[0][1:] if stage.startswith("C") and ":" in stage else "0"
        self.deals[did] = {
            "ID": did,
            "TITLE": title,
            "STAGE_ID": stage,
            "CATEGORY_ID": category,
            "CONTACT_ID": contact_id,
            "OPPORTUNITY": opportunity,
            "CURRENCY_ID": currency,
            "DATE_CREATE": now_iso(),
            "DATE_MODIFY": now_iso(),
            "MOVED_TIME": now_iso(),
            **extra,
        }
        self._history(2, did, "STAGE_ID", stage, 1, category)
        return did

    def move_deal(self, deal_id: str, stage: str, record_history: bool = True) -> None:
        deal = self.deals[deal_id]
        deal.update(STAGE_ID=stage, DATE_MODIFY=now_iso(), MOVED_TIME=now_iso())
        if record_history:
            self._history(
                2,
                deal_id,
                "STAGE_ID",
                stage,
                3 if stage.split(":")[-1] in FINAL_STAGES else 2,
                deal["CATEGORY_ID"],
            )

    def add_lead(
        self,
        phones: list[tuple[str, str]] | None = None,
        status: str = "NEW",
        contact_id: str | None = None,
        **extra: Any,
    ) -> str:
        lid = self.next_id()
        lead = {
            "ID": lid,
            "TITLE": "Лид с сайта",
            "NAME": "Пётр",
            "STATUS_ID": status,
            "CONTACT_ID": contact_id,
            "OPPORTUNITY": "0.00",
            "CURRENCY_ID": "RUB",
            "DATE_MODIFY": now_iso(),
            **extra,
        }
        if phones:
            lead["PHONE"] = [
                {"ID": self.next_id(), "VALUE_TYPE": kind, "VALUE": value, "TYPE_ID": "PHONE"}
                for value, kind in phones
            ]
        self.leads[lid] = lead
        self._history(1, lid, "STATUS_ID", status, 1, None)
        return lid

    def add_item(self, entity_type_id: int, contact_id: str | None, stage: str) -> str:
        iid = self.next_id()
        self.items[(entity_type_id, iid)] = {
            "id": int(iid),
            "entityTypeId": entity_type_id,
            "title": "Заявка",
            "stageId": stage,
            "categoryId": 3,
            "contactId": int(contact_id or 0) or None,
            "opportunity": 900,
            "currencyId": "RUB",
            "movedTime": now_iso(),
        }
        self._history(entity_type_id, iid, "STAGE_ID", stage, 1, "3")
        return iid

    def _history(
        self, type_id: int, owner: str, field_name: str, stage: str, kind: int, category: str | None
    ) -> None:
        record = {
            "ID": len(self.history) + 101,
            "TYPE_ID": kind,
            "OWNER_ID": int(owner),
            "CREATED_TIME": now_iso(),
            field_name: stage,
            "_entity": type_id,
        }
        if category is not None:
            record.update(CATEGORY_ID=int(category), STAGE_SEMANTIC_ID="P")
        self.history.append(record)

    # --- REST methods ------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            raise ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        return handler(params)

    def m_app_info(self, params: dict[str, Any]) -> Any:
        return {
            "ID": 5,
            "CODE": "relay.sms",
            "VERSION": 1,
            "STATUS": "F",
            "INSTALLED": True,
            "PAYMENT_EXPIRED": "N",
            "DAYS": None,
            "LANGUAGE_ID": "ru",
            "LICENSE": "ru_std",
            "LICENSE_TYPE": "std",
            "LICENSE_FAMILY": "std",
        }

    def m_event_bind(self, params: dict[str, Any]) -> Any:
        event, handler = str(params.get("event") or "").upper(), str(params.get("handler") or "")
        if event not in KNOWN_EVENTS:
            raise ApiError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
        if not handler.startswith(("http://", "https://")):
            raise ApiError(400, "ERROR_CORE", "Handler is not a valid URL")
        if {"event": event, "handler": handler} in self.bindings:
            raise ApiError(400, "ERROR_CORE", "Handler already binded")
        self.bindings.append({"event": event, "handler": handler})
        return True

    def m_messageservice_sender_add(self, params: dict[str, Any]) -> Any:
        code = str(params.get("CODE") or "")
        checks = [
            (code, "Empty sender code!"),
            (CODE_RE.match(code), "Wrong sender code!"),
            (params.get("NAME"), "Empty sender NAME!"),
            (params.get("TYPE"), "Empty sender message TYPE!"),
            (params.get("TYPE") == "SMS", "Unknown sender message TYPE!"),
            (str(params.get("HANDLER") or "").startswith("http"), "Empty sender HANDLER!"),
        ]
        for ok, text in checks:
            if not ok:
                raise ApiError(400, "ERROR_SENDER_VALIDATION_FAILURE", text)
        if code in self.senders:
            raise ApiError(400, "ERROR_SENDER_ALREADY_INSTALLED", "Sender already installed!")
        self.senders[code] = {k: str(params[k]) for k in ("TYPE", "HANDLER", "NAME")}
        return True

    def m_messageservice_message_status_update(self, params: dict[str, Any]) -> Any:
        code = params.get("CODE")
        message_id = params.get("MESSAGE_ID") or params.get("message_id")
        status = params.get("STATUS") or params.get("status")
        if code not in self.senders:
            raise ApiError(400, "ERROR_SENDER_NOT_FOUND", "Sender not found!")
        if message_id not in self.messages:
            raise ApiError(400, "ERROR_MESSAGE_NOT_FOUND", "Message not found!")
        if status not in PROVIDER_STATUSES:
            raise ApiError(400, "ERROR_MESSAGE_STATUS_INCORRECT", "Incorrect message status!")
        self.statuses.append({"CODE": code, "MESSAGE_ID": message_id, "STATUS": status})
        return True

    def _get(self, table: dict[str, dict[str, Any]], params: dict[str, Any]) -> Any:
        key = _id(params, "id", "ID")
        if key not in table:
            raise ApiError(400, "", "Not found")
        return {k: v for k, v in table[key].items() if v is not None or k == "CONTACT_ID"}

    def m_crm_deal_get(self, params: dict[str, Any]) -> Any:
        return self._get(self.deals, params)

    def m_crm_contact_get(self, params: dict[str, Any]) -> Any:
        return self._get(self.contacts, params)

    def m_crm_lead_get(self, params: dict[str, Any]) -> Any:
        return self._get(self.leads, params)

    def m_crm_item_get(self, params: dict[str, Any]) -> Any:
        type_id = str(params.get("entityTypeId") or "")
        if not type_id.isdigit():
            raise ApiError(400, "NOT_FOUND", "Смарт-процесс не найден")
        item = self.items.get((int(type_id), _id(params, "id")))
        if item is None:
            raise ApiError(400, "NOT_FOUND", "Элемент не найден")
        return {"item": dict(item)}

    def m_crm_stagehistory_list(self, params: dict[str, Any]) -> Any:
        type_id = str(params.get("entityTypeId") or "")
        if type_id not in ("1", "2", "5", "31") and not (type_id.isdigit() and int(type_id) >= 128):
            raise ApiError(400, "ERROR_ARGUMENT", "entityTypeId is not supported")
        owner = str((params.get("filter") or {}).get("OWNER_ID") or "")
        rows = [
            r
            for r in self.history
            if r["_entity"] == int(type_id) and (not owner or str(r["OWNER_ID"]) == owner)
        ]
        if str((params.get("order") or {}).get("ID", "ASC")).upper() == "DESC":
            rows = rows[::-1]
        select = params.get("select")
        keep = set(select.values()) if isinstance(select, dict) else None
        items = [
            {k: v for k, v in r.items() if k != "_entity" and (keep is None or k in keep)}
            for r in rows[:50]
        ]
        return {"items": items}, len(rows)

    def m_crm_timeline_comment_add(self, params: dict[str, Any]) -> Any:
        fields = params.get("fields")  # only lowercase `fields` since crm 23.100.0
        if (
            not isinstance(fields, dict)
            or not fields.get("ENTITY_ID")
            or not fields.get("ENTITY_TYPE")
        ):
            raise ApiError(400, "100", "Не переданы обязательные поля")
        if not str(fields.get("COMMENT") or "").strip():
            raise ApiError(400, "INVALID_ARG_VALUE", "Пустой комментарий")
        kind, owner = str(fields["ENTITY_TYPE"]), str(fields["ENTITY_ID"])
        tables = {"deal": self.deals, "lead": self.leads, "contact": self.contacts}
        exists = (
            owner in tables[kind]
            if kind in tables
            else (kind.startswith("dynamic_") and (int(kind[8:]), owner) in self.items)
        )
        if not exists:
            raise ApiError(400, "OWNER_NOT_FOUND", "Владелец элемента не найден")
        self.comments.append(dict(fields))
        return len(self.comments) + 998

    def m_crm_status_list(self, params: dict[str, Any]) -> Any:
        entity = str((params.get("filter") or {}).get("ENTITY_ID") or "")
        stages = (
            self.deal_stages
            if entity == "DEAL_STAGE"
            else (
                [("NEW", "Не обработан"), ("IN_PROCESS", "В работе")] if entity == "STATUS" else []
            )
        )
        return [
            {
                "ID": str(i + 1),
                "ENTITY_ID": entity,
                "STATUS_ID": sid,
                "NAME": name,
                "SORT": str((i + 1) * 10),
                "SYSTEM": "Y",
            }
            for i, (sid, name) in enumerate(stages)
        ]

    def m_crm_category_list(self, params: dict[str, Any]) -> Any:
        return {
            "categories": [
                {"id": 0, "name": "Общая", "sort": 100, "entityTypeId": 2, "isDefault": "Y"}
            ]
        }
