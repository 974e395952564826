"""SMS.ru adapter (type "smsru"): SMS through SMS.ru's HTTP API, answers in JSON (`json=1`).

Followed (stored copies of SMS.ru's own pages): "Отправить СМС сообщение HTTP запросом"
(https://sms.ru/api/send, mirrored at https://tele2.sms.ru/api/send), "Проверить стоимость"
(https://sms.ru/api/cost), "Проверить статус" (https://sms.ru/api/status) and the API callback
page (https://sms.ru/?panel=api&subpanel=cb: the handler must answer "100" to every request).
The full code list is taken from SMS.ru's "Коды ответов" table as reproduced in
github.com/matrizaev/smsru SPEC.md (a client written against SMS.ru's PDF).

- `sms/send` must be POSTed (code 210 answers a GET) as UTF-8 (code 212 otherwise); numbers are
  sent as digits without "+", as in SMS.ru's examples. One number per request: the answer's
  `sms` object is keyed by that number.
- Callbacks POST form fields `data[0]`, `data[1]` … each "sms_status\\n<sms_id>\\n<code>\\n<unix
  time>" (also "test\\n<time>" heartbeats and "callcheck_status" records, ignored here) plus
  `hash` = sha256(api_id + the entries concatenated in index order). AMBIGUOUS: the stored copy
  of SMS.ru's callback page does not show the hash formula; it is the one several independent
  clients verify against (e.g. Ruby `SmsRu::Webhook.valid?`). It is checked when present
  (`verify_hash`, default true); the per-provider token in the callback path authenticates
  either way.
- Callbacks carry SMS.ru's sms_id only, so receipts are matched on the provider message id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import requests

from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    ProviderError,
    Receipt,
    SendResult,
)
from relay.providers.httpbase import HttpProvider, network_error, to_decimal
from shared.phones import mask_phones_in_text

log = logging.getLogger("relay.providers.smsru")

SEND_PATH, COST_PATH, BALANCE_PATH = "sms/send", "sms/cost", "my/balance"
CURRENCY = "RUB"  # SMS.ru bills in roubles
OK = 100

# Request / per-number answer codes → (kind, relay error code). Source: sms.ru/api/send,
# "Коды ответов". Money and daily limits are transient (another gateway or a top-up helps; the
# router's failover counts them), per-minute limits are throttled, everything about the message
# or the number itself is permanent.
ERRORS: dict[int, tuple[str, str]] = {
    200: (PERMANENT, "auth_failed"),  # Неправильный api_id
    201: (TRANSIENT, "insufficient_funds"),  # Не хватает средств на лицевом счету
    202: (PERMANENT, "invalid_phone"),  # Неправильно указан номер телефона получателя
    203: (PERMANENT, "empty_text"),  # Нет текста сообщения
    204: (PERMANENT, "sender_not_allowed"),  # Имя отправителя не согласовано с оператором
    205: (PERMANENT, "too_long"),  # Сообщение слишком длинное (более 8 СМС)
    206: (TRANSIENT, "daily_limit"),  # Будет превышен дневной лимит на отправку
    207: (PERMANENT, "no_route"),  # На этот номер нет маршрута доставки
    208: (PERMANENT, "invalid_time"),  # Параметр time указан неправильно
    209: (PERMANENT, "stop_list"),  # Номер в вашем стоп-листе
    210: (PERMANENT, "bad_request"),  # GET вместо POST
    211: (PERMANENT, "bad_request"),  # Метод не найден
    212: (PERMANENT, "bad_encoding"),  # Текст нужно передать в UTF-8
    213: (PERMANENT, "bad_request"),  # Более 5000 номеров
    214: (PERMANENT, "no_route"),  # Номер за рубежом (включена отправка только на РФ)
    215: (PERMANENT, "stop_list"),  # Номер в глобальном стоп-листе SMS.ru (жалобы на спам)
    216: (PERMANENT, "content_rejected"),  # Запрещённое слово в тексте
    217: (PERMANENT, "content_rejected"),  # Реклама кредита без обязательной фразы
    220: (TRANSIENT, "unavailable"),  # Сервис временно недоступен, попробуйте чуть позже
    221: (PERMANENT, "sender_not_allowed"),  # Нужен буквенный отправитель
    230: (TRANSIENT, "number_daily_limit"),  # Превышен общий лимит на этот номер в день
    231: (THROTTLED, "rate_limited"),  # Лимит одинаковых сообщений на номер в минуту
    232: (PERMANENT, "duplicate_limit"),  # Лимит одинаковых сообщений на номер в день
    233: (PERMANENT, "duplicate_limit"),  # Лимит повторов кодов на номер (антифрод)
    300: (PERMANENT, "auth_failed"),  # Неправильный token
    301: (PERMANENT, "auth_failed"),  # Неправильный api_id либо логин/пароль
    302: (PERMANENT, "auth_failed"),  # Аккаунт не подтверждён
    500: (TRANSIENT, "unavailable"),  # Ошибка на сервере, повторите запрос
    501: (THROTTLED, "rate_limited"),  # 501–506: антифрод-лимиты, сбрасываются со временем
    502: (THROTTLED, "rate_limited"),
    503: (THROTTLED, "rate_limited"),
    504: (THROTTLED, "rate_limited"),
    505: (THROTTLED, "rate_limited"),
    506: (THROTTLED, "rate_limited"),
    508: (THROTTLED, "rate_limited"),  # Слишком много запросов за 5 минут
    550: (PERMANENT, "no_route"),  # Страна заблокирована по соображениям безопасности
}

# Message status codes (callbacks, sms/status) → relay receipt status. Source: sms.ru/api/status
# and the code table above. None: not a change worth recording (queued at SMS.ru, unknown id).
STATUSES: dict[int, str | None] = {
    -1: None,  # Сообщение не найдено
    100: None,  # Сообщение находится в нашей очереди
    101: None,  # Сообщение передаётся оператору
    102: "sent",  # Сообщение отправлено (в пути)
    103: "delivered",  # Сообщение доставлено
    104: "expired",  # Не доставлено: истекло время жизни
    105: "undelivered",  # Не доставлено: удалено оператором
    106: "undelivered",  # Не доставлено: сбой в телефоне
    107: "undelivered",  # Не доставлено: неизвестная причина
    108: "failed",  # Не доставлено: отклонено
    110: "read",  # Прочитано (только Viber)
    150: "failed",  # Не доставлено: не найден маршрут на данный номер
}
_FAILED = {"expired", "undelivered", "failed"}
_DATA_KEY = re.compile(r"^data\[(\d*)\]$")


def _digits(phone: str) -> str:
    """SMS.ru's number format: international digits without "+"."""
    return phone[1:] if phone.startswith("+") else phone


class SmsRuProvider(HttpProvider):
    """SMS through SMS.ru. Config: api_id (secret), sender, test, partner_id, base_url."""

    type: ClassVar[str] = "smsru"
    default_base_url: ClassVar[str] = "https://sms.ru"
    config_keys: ClassVar[frozenset[str]] = frozenset(
        {"api_id", "sender", "test", "partner_id", "verify_hash"}
    )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """api_id is required; sender and partner_id are optional strings."""
        config = super().validate_config(config)
        config["api_id"] = cls.require(config, "api_id")
        config["sender"] = cls.optional(config, "sender")
        config["partner_id"] = cls.optional(config, "partner_id")
        config["test"] = cls.flag(config, "test")
        config["verify_hash"] = cls.flag(config, "verify_hash", default=True)
        return config

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """api_id is the only credential."""
        return ("api_id",)

    # --- sending ----------------------------------------------------------------------

    def _form(self, msg: OutboundMessage) -> dict[str, str]:
        form = {
            "api_id": self.config["api_id"],
            "to": _digits(msg.phone),
            "msg": msg.text,
            "json": "1",
        }
        sender = msg.sender or self.config["sender"]
        if sender:
            form["from"] = sender
        if self.config["test"]:
            form["test"] = "1"  # SMS.ru: "Имитирует отправку сообщения", nothing is charged
        if self.config["partner_id"]:
            form["partner_id"] = self.config["partner_id"]
        return form

    def _entry(self, path: str, form: Mapping[str, str]) -> tuple[dict[str, Any], Any]:
        """POST, check the request-level code, return the per-number entry and the body."""
        body = self.json_answer(self.post(path, data=form))
        if not isinstance(body, dict):
            raise ProviderError(TRANSIENT, "bad_response", "SMS.ru answered a non-object")
        if body.get("status") != "OK":
            raise self.error(body.get("status_code"), body.get("status_text"))
        entry = (body.get("sms") or {}).get(form["to"])
        if not isinstance(entry, dict):
            raise ProviderError(TRANSIENT, "bad_response", "SMS.ru gave no result for the number")
        if entry.get("status") != "OK":
            raise self.error(entry.get("status_code"), entry.get("status_text"))
        return entry, body

    def _send(self, msg: OutboundMessage) -> SendResult:
        entry, body = self._entry(SEND_PATH, self._form(msg))
        # the send answer may carry the price ("cost") and parts ("sms"); sms/cost always does
        cost = to_decimal(entry.get("cost"))
        return SendResult(
            provider_message_id=entry.get("sms_id"),
            cost=cost,
            currency=CURRENCY if cost is not None else None,
            raw={
                "status_code": entry.get("status_code"),
                "sms_id": entry.get("sms_id"),
                "sms": entry.get("sms"),
                "balance": body.get("balance"),
            },
        )

    def quote(self, msg: OutboundMessage) -> tuple[Decimal | None, int | None]:
        """Price and number of parts of a message, from `sms/cost` (sends nothing)."""
        form = self._form(msg)
        form.pop("test", None)
        try:
            entry, _ = self._entry(COST_PATH, form)
        except requests.RequestException as exc:
            raise network_error(exc) from exc
        parts = entry.get("sms")
        return to_decimal(entry.get("cost")), int(parts) if parts is not None else None

    def check(self) -> dict[str, Any]:
        """`my/balance`: proves the api_id works; auth failures are permanent `auth_failed`."""
        try:
            body = self.json_answer(
                self.post(BALANCE_PATH, data={"api_id": self.config["api_id"], "json": "1"})
            )
        except requests.RequestException as exc:
            raise network_error(exc) from exc
        if not isinstance(body, dict) or body.get("status") != "OK":
            body = body if isinstance(body, dict) else {}
            raise self.error(body.get("status_code"), body.get("status_text"))
        balance = to_decimal(body.get("balance"))
        return {
            "ok": True,
            "balance": str(balance) if balance is not None else None,
            "currency": CURRENCY,
        }

    def error(self, code: Any, text: Any = None) -> ProviderError:
        """A ProviderError for an SMS.ru code; unknown codes are transient (bounded retries)."""
        try:
            number = int(code)
        except (TypeError, ValueError):
            return ProviderError(TRANSIENT, "bad_response", f"SMS.ru status_code {code!r}")
        kind, name = ERRORS.get(number, (TRANSIENT, f"smsru_{number}"))
        detail = mask_phones_in_text(str(text or "error"))  # a gateway may echo the number
        return ProviderError(kind, name, f"SMS.ru {number}: {detail}")

    # --- callbacks --------------------------------------------------------------------

    @staticmethod
    def entries(data: Mapping[str, Any]) -> list[str]:
        """The `data[N]` records in SMS.ru's order (the hash depends on it)."""
        indexed: list[tuple[int, int, str]] = []
        for pos, (key, value) in enumerate(data.items()):
            match = _DATA_KEY.match(key)
            if match:
                index = int(match.group(1)) if match.group(1) else 1 << 30
                indexed.append((index, pos, str(value)))
        if not indexed and "data" in data:  # a JSON body or a framework that parsed arrays
            raw = data["data"]
            return [str(x) for x in raw] if isinstance(raw, list) else [str(raw)]
        return [value for _, _, value in sorted(indexed)]

    def verify(self, entries: list[str], data: Mapping[str, Any]) -> None:
        """Check SMS.ru's `hash` when it is sent; PermissionError when it does not match."""
        given = data.get("hash")
        if not self.config["verify_hash"] or given is None:
            return
        expected = hashlib.sha256((self.config["api_id"] + "".join(entries)).encode()).hexdigest()
        if not hmac.compare_digest(expected, str(given).strip().lower()):
            raise PermissionError("SMS.ru callback hash does not match")

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """`sms_status` records → receipts; heartbeats and other record types are skipped."""
        entries = self.entries(data)
        self.verify(entries, data)
        out: list[Receipt] = []
        for entry in entries:
            lines = entry.replace("\r\n", "\n").split("\n")
            if lines[0].strip() != "sms_status":
                continue
            try:
                sms_id, code = lines[1].strip(), int(lines[2])
                at = datetime.fromtimestamp(int(lines[3]), UTC) if len(lines) > 3 else None
            except (IndexError, ValueError):
                # answering 400 would make SMS.ru resend the whole batch for days
                log.warning("malformed SMS.ru status record skipped", extra={"provider": self.name})
                continue
            status = STATUSES.get(code)
            if status is None or not sms_id:
                continue
            out.append(
                Receipt(
                    status=status,
                    provider_message_id=sms_id,
                    at=at,
                    error_code=str(code) if status in _FAILED else None,
                )
            )
        return out

    def callback_response(self, kind: str) -> tuple[str, int, dict[str, str]]:
        """SMS.ru re-sends a notification until the handler answers "100"."""
        return ("100", 200, {"Content-Type": "text/plain; charset=utf-8"})


__all__ = ["ERRORS", "STATUSES", "SmsRuProvider"]
