"""Constants of the Bitrix24 connector: events, status maps, texts and the default settings."""

from __future__ import annotations

import copy
from typing import Any

PLATFORM = "bitrix24"
DEFAULT_OAUTH_URL = "https://oauth.bitrix.info/oauth/token/"
DEFAULT_PROVIDER_CODE = "relay_sms"  # messageservice.sender.add CODE: a-z A-Z 0-9 . - _
DEFAULT_PROVIDER_NAME = "Relay SMS"

# CRM events bound with event.bind (handlers are dropped on update, so they are bound again),
# plus the app events that keep the installation in step.
CRM_EVENTS = (
    "ONCRMDEALADD",
    "ONCRMDEALUPDATE",
    "ONCRMLEADADD",
    "ONCRMLEADUPDATE",
    "ONCRMDYNAMICITEMADD",
    "ONCRMDYNAMICITEMUPDATE",
)
APP_EVENTS = ("ONAPPUNINSTALL", "ONAPPUPDATE")
BOUND_EVENTS = CRM_EVENTS + APP_EVENTS

# LANG of the install POST → the tenant's default phone region (RU, BY or KZ).
LANG_REGIONS = {"ru": "RU", "by": "BY", "be": "BY", "kz": "KZ", "kk": "KZ"}
DEFAULT_REGION = "RU"

# relay status → messageservice.message.status.update STATUS (queued, sent, delivered,
# undelivered, failed are the values Bitrix24 accepts). `sending` and `scheduled` are internal
# steps; `unknown` (a send whose outcome we never learned) is not reported at all.
PROVIDER_STATUS = {
    "queued": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "expired": "undelivered",
    "failed": "failed",
    "blocked": "failed",
    "cancelled": "failed",
}
# statuses of a stage-change message worth a line in the deal's timeline
STAGE_COMMENT_STATUSES = ("blocked", "delivered", "undelivered", "failed", "expired")
PROVIDER_COMMENT_STATUSES = ("blocked", "failed", "cancelled")

# What a manager reads in the timeline for a relay reason code (the block reasons,
# docs/architecture.md, 'API').
REASON_TEXTS = {
    "stop_list": "клиент отказался от сообщений (стоп-лист)",
    "no_consent": "нет согласия клиента на рекламные сообщения",
    "frequency_cap": "превышен лимит рекламных сообщений клиенту за неделю",
    "invalid_phone": "номер телефона не распознан",
    "content_rule": "текст не прошёл проверку содержания",
    "sender_not_allowed": "имя отправителя не зарегистрировано",
    "tenant_disabled": "отправка для портала отключена",
    "quiet_hours": "тихие часы получателя",
    "throttled": "очередь отправки переполнена",
}
STATUS_TEXTS = {
    "delivered": "доставлено",
    "undelivered": "не доставлено",
    "failed": "ошибка отправки",
    "expired": "срок доставки истёк",
    "blocked": "не отправлено",
    "cancelled": "отменено",
}

# The connector's own templates, offered on the settings page; the tenant edits their texts.
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "b24_order_accepted": {
        "category": "transactional",
        "text": "Заказ №{{ order.number }} принят в работу.",
    },
    "b24_order_shipped": {
        "category": "transactional",
        "text": "Заказ №{{ order.number }} передан в доставку.",
    },
    "b24_order_done": {
        "category": "transactional",
        "text": "Заказ №{{ order.number }} выполнен. Спасибо, что выбрали нас!",
    },
    "b24_order_cancelled": {
        "category": "transactional",
        "text": "Заказ №{{ order.number }} отменён.",
    },
    "b24_survey": {
        "category": "marketing",
        "text": "Оцените нашу работу по заказу №{{ order.number }} от 0 до 10 ответным SMS.",
    },
}

DEFAULT_SETTINGS: dict[str, Any] = {
    # {"deal": {"WON": "b24_order_done"}, "lead": {...}, "dynamic_128": {...}}; nothing is sent
    # until the portal's administrator maps a stage on the settings page.
    "stage_templates": {},
    "templates": DEFAULT_TEMPLATES,
    "consent_field": "",  # UF_CRM_… on the contact (or the deal/lead itself)
    "consent_wording": "",
    "sender": "",
    "stage_urgent": False,  # True: stage messages skip quiet hours (transactional only)
    "provider_category": "transactional",  # what a manager's or robot's SMS counts as
}


def default_settings() -> dict[str, Any]:
    """A fresh copy of the default settings."""
    return copy.deepcopy(DEFAULT_SETTINGS)


def region_for_lang(lang: str | None) -> str:
    """The tenant's default region from the portal language (ru→RU, by→BY, kz→KZ …)."""
    return LANG_REGIONS.get((lang or "").strip().lower()[:2], DEFAULT_REGION)
