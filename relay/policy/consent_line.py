"""The consent source named in the message (a tenant option): a marketing text may end with
the line telling the recipient where and when they agreed, taken from the consent ledger —
"Вы подписались при оформлении заказа 12.03.2026" — when it fits the segment budget: the line
is added only if the SMS does not grow by a part (a Viber text only up to 1,000 characters).

Pure: the grant in force comes from the facts (the same `current_consent` the policy decides
with), the date is shown in the store's zone. A text that already carries the line (the
worker re-deciding what the intake produced) is left as it is.
"""

from __future__ import annotations

from datetime import datetime

from relay.policy.model import MARKETING, ConsentRecord, PolicyMessage, RecipientFacts, TenantPolicy
from relay.policy.rules import current_consent
from relay.policy.tzcache import get_zone

LINES = {
    "checkout_checkbox": "Вы подписались при оформлении заказа {date}",
    "registration": "Вы подписались при регистрации {date}",
    "subscription_form": "Вы подписались на рассылку на сайте {date}",
    "survey": "Вы дали согласие в опросе {date}",
    "chatbot": "Вы подписались в чат-боте {date}",
    "paper_form": "Вы дали согласие в анкете {date}",
}
DEFAULT_LINE = "Вы дали согласие на рассылку {date}"
VIBER_MAX = 1000

# GSM 03.38 (basic + extension), for counting parts without leaving the pure policy
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = frozenset("\x0c^{}\\[~]|€")


def sms_parts(text: str) -> int:
    """How many SMS parts a text takes (GSM-7 160/153 with extension characters counting two;
    else UCS-2 70/67 UTF-16 units). Close enough for a budget: shared.segments is exact."""
    if not text:
        return 0
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in text):
        units, single, part = sum(2 if ch in _GSM_EXT else 1 for ch in text), 160, 153
    else:
        units, single, part = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text), 70, 67
    return 1 if units <= single else -(-units // part)


def consent_line(record: ConsentRecord, store_timezone: str) -> str:
    """The line for a grant."""
    zone = get_zone(store_timezone)
    when: datetime = record.recorded_at.astimezone(zone) if zone else record.recorded_at
    return LINES.get(record.source, DEFAULT_LINE).format(date=when.strftime("%d.%m.%Y"))


def with_consent_line(
    text: str, message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy
) -> str:
    """`text` with the consent line when the tenant wants it and it fits; else `text`."""
    if not policy.consent_source_line or message.category != MARKETING or not text:
        return text
    record = current_consent(facts.consents, message.channel)
    if record is None or not record.granted:
        return text
    line = consent_line(record, policy.store_timezone)
    if line in text:
        return text
    longer = f"{text.rstrip()}\n{line}"
    if message.channel == "sms":
        return longer if sms_parts(longer) <= sms_parts(text) else text
    return longer if len(longer) <= VIBER_MAX else text
