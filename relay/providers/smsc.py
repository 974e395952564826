"""SMSC.ru adapter (type "smsc"): SMS and Viber through SMSC's HTTP API (`sys/send.php`).

Followed (stored copies of SMSC's own pages): "Отправка SMS-сообщения" (https://smsc.ru/api/http/
send/, English mirror https://smscentre.com/api/http/send/), "Статусы сообщений. Ответ сервера и
коды ошибок" (https://smsc.ru/api/http/status_messages/status_answer/), "Ответ сервера и коды
ошибок" (https://smsc.ru/api/http/senders/senders_answer/), SMSC's own client library
(https://smsc.ru/api/code/libraries/http_smtp/php/: `cost=3`, `valid=01:00`, `cost=1`) and the
parameter descriptions reproduced by client libraries (SMSC.Types, Spoleto.SMS).

- POST form, `fmt=3` (JSON), `charset=utf-8` (SMSC's default is windows-1251, so without it
  Cyrillic text arrives garbled), `cost=3` (answer with the price and the new balance).
- `id`: SMSC takes "a 32-bit number 1…2147483647 or a string of up to 40 Latin letters, digits
  and . - _". Our message ids are 32 hex characters, so they go as they are and every status
  callback names our message directly; an id outside that format is left out and SMSC's own id
  becomes the provider id instead.
- Numbers go with "+": SMSC auto-corrects numbers without it, and ours are already E.164.
- Test mode: SMSC's "virtual sending" is an account setting, not a request parameter, so
  `test: true` sends `cost=1`: SMSC prices the message and sends nothing (no id, no receipt).
- Viber: `viber=1`; TTL as `valid=hh:mm` (SMSC documents 1 minute to 24 hours; longer TTLs are
  capped). AMBIGUOUS/UNVERIFIED: the stored copies do not include SMSC's Viber page. The image
  goes as `fileurl` ("full http address of a file to attach", a documented send parameter); the
  button parameter names in VIBER_BUTTON_PARAMS could not be verified and must be checked
  against https://smsc.ru/api/http/send/viber/ before relying on buttons.
- Status callbacks (the "обработчик" set in SMSC's settings) POST `id`, `phone`, `status`, `err`
  and a time; SMSC signs nothing we could verify from the docs we have, so the path token
  authenticates them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    Lookup,
    OutboundMessage,
    ProviderError,
    Receipt,
    SendResult,
)
from relay.providers.httpbase import HttpProvider, network_error, to_decimal
from shared.phones import mask_phones_in_text

SEND_PATH, BALANCE_PATH, STATUS_PATH = "sys/send.php", "sys/balance.php", "sys/status.php"
NOT_FOUND = -3  # "Сообщение не найдено": SMSC never accepted a message with this id
CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")  # SMSC's rule for a client-assigned `id`
VIBER_BUTTON_PARAMS = {"caption": "bt_text", "url": "bt_url"}  # UNVERIFIED names, see above
MAX_VALID_MINUTES = 24 * 60

# `error_code` of a failed request → (kind, relay code). Source: "Ответ сервера и коды ошибок"
# (https://smsc.ru/api/http/send/ → "коды ошибок"). Money is transient (failover / top-up helps).
ERRORS: dict[int, tuple[str, str]] = {
    1: (PERMANENT, "bad_request"),  # Ошибка в параметрах
    2: (PERMANENT, "auth_failed"),  # Неверный логин или пароль (или IP не разрешён)
    3: (TRANSIENT, "insufficient_funds"),  # Недостаточно средств на счете Клиента
    4: (TRANSIENT, "ip_blocked"),  # IP-адрес временно заблокирован из-за частых ошибок
    5: (PERMANENT, "invalid_time"),  # Неверный формат даты
    6: (PERMANENT, "content_rejected"),  # Сообщение запрещено (по тексту или имени отправителя)
    7: (PERMANENT, "invalid_phone"),  # Неверный формат номера телефона
    8: (PERMANENT, "undeliverable"),  # Сообщение на указанный номер не может быть доставлено
    9: (THROTTLED, "rate_limited"),  # Слишком много одинаковых/одновременных запросов
}

# Message status codes (callbacks, status.php) → relay receipt status. Source: "Статусы
# сообщений" (https://smsc.ru/api/http/status_messages/). None: nothing to record yet.
STATUSES: dict[int, str | None] = {
    -3: None,  # Сообщение не найдено
    -2: "failed",  # Остановлено
    -1: None,  # Ожидает отправки
    0: "sent",  # Передано оператору
    1: "delivered",  # Доставлено
    2: "read",  # Прочитано (Viber, e-mail)
    3: "expired",  # Просрочено
    4: "read",  # Нажата ссылка (Viber button / link: the message was read)
    20: "undelivered",  # Невозможно доставить
    22: "failed",  # Неверный номер
    23: "failed",  # Запрещено
    24: "failed",  # Недостаточно средств
    25: "undelivered",  # Недоступный номер
}
_FAILED = {"failed", "undelivered", "expired"}


def valid_param(ttl_seconds: int) -> str:
    """A TTL in seconds as SMSC's `valid=hh:mm`, rounded up to a minute, within 1 min…24 h."""
    minutes = min(max(1, math.ceil(ttl_seconds / 60)), MAX_VALID_MINUTES)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class SmscProvider(HttpProvider):
    """SMS and Viber through SMSC.ru. Config: login, psw (secret), sender, viber_sender, test."""

    type: ClassVar[str] = "smsc"
    channels: ClassVar[frozenset[str]] = frozenset({"sms", "viber"})
    default_base_url: ClassVar[str] = "https://smsc.ru"
    config_keys: ClassVar[frozenset[str]] = frozenset(
        {"login", "psw", "sender", "viber_sender", "test", "currency"}
    )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """login and psw are required; currency defaults to RUB (smsc.kz accounts: KZT)."""
        config = super().validate_config(config)
        config["login"] = cls.require(config, "login")
        config["psw"] = cls.require(config, "psw")
        config["sender"] = cls.optional(config, "sender")
        config["viber_sender"] = cls.optional(config, "viber_sender")
        config["test"] = cls.flag(config, "test")
        config["currency"] = (cls.optional(config, "currency") or "RUB").upper()
        return config

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The password is the credential (the login is shown)."""
        return ("psw",)

    def _auth(self) -> dict[str, str]:
        # charset covers every parameter, the password too: without it SMSC reads windows-1251
        return {
            "login": self.config["login"],
            "psw": self.config["psw"],
            "fmt": "3",
            "charset": "utf-8",
        }

    # --- sending ----------------------------------------------------------------------

    def form(self, msg: OutboundMessage) -> dict[str, str]:
        """The send.php parameters for one message (exposed for tests and debugging)."""
        form = {
            **self._auth(),
            "phones": msg.phone,
            "mes": msg.text,
            "cost": "1" if self.config["test"] else "3",
        }
        if CLIENT_ID.match(msg.message_id):
            form["id"] = msg.message_id
        if msg.channel == "viber":
            form["viber"] = "1"
            sender = msg.sender or self.config["viber_sender"]
            viber = msg.viber or {}
            if viber.get("image"):
                form["fileurl"] = str(viber["image"])
            button = viber.get("button") or {}
            if button.get("caption") and button.get("url"):
                form[VIBER_BUTTON_PARAMS["caption"]] = str(button["caption"])
                form[VIBER_BUTTON_PARAMS["url"]] = str(button["url"])
            if viber.get("ttl"):
                form["valid"] = valid_param(int(viber["ttl"]))
        else:
            sender = msg.sender or self.config["sender"]
        if sender:
            form["sender"] = sender
        return form

    def _send(self, msg: OutboundMessage) -> SendResult:
        form = self.form(msg)
        body = self._answer(self.post(SEND_PATH, data=form))
        cost = to_decimal(body.get("cost"))
        currency = self.config["currency"] if cost is not None else None
        raw: dict[str, Any] = {k: body[k] for k in ("id", "cnt", "cost", "balance") if k in body}
        if self.config["test"]:  # cost=1: priced, not sent
            return SendResult(provider_message_id=None, cost=cost, currency=currency, raw=raw)
        ref = body.get("id", form.get("id"))
        return SendResult(
            provider_message_id=str(ref) if ref is not None else None,
            cost=cost,
            currency=currency,
            raw=raw,
        )

    def _answer(self, resp: requests.Response) -> dict[str, Any]:
        body = self.json_answer(resp)
        if not isinstance(body, dict):
            raise ProviderError(TRANSIENT, "bad_response", "SMSC answered a non-object")
        if "error_code" in body or "error" in body:
            raise self.error(body.get("error_code"), body.get("error"))
        return body

    def check(self) -> dict[str, Any]:
        """`sys/balance.php`: proves the login works; bad credentials are `auth_failed`."""
        try:
            body = self._answer(self.post(BALANCE_PATH, data=self._auth()))
        except requests.RequestException as exc:
            raise network_error(exc) from exc
        balance = to_decimal(body.get("balance"))
        return {
            "ok": True,
            "balance": str(balance) if balance is not None else None,
            "currency": self.config["currency"],
        }

    def lookup(self, msg: OutboundMessage, provider_message_id: str | None) -> Lookup | None:
        """`sys/status.php` by our own id (it went with the send) and the number: SMSC's status
        as a receipt, or `known` false for -3 "message not found" (SMSC never took it)."""
        ref = provider_message_id or (msg.message_id if CLIENT_ID.match(msg.message_id) else None)
        if ref is None:
            return None
        form = {**self._auth(), "phone": msg.phone, "id": ref}
        try:
            body = self._answer(self.post(STATUS_PATH, data=form))
        except requests.RequestException as exc:
            raise network_error(exc) from exc
        try:
            code = int(str(body.get("status")).strip())
        except ValueError:
            return None
        if code == NOT_FOUND:
            return Lookup(known=False)
        status = STATUSES.get(code)
        receipt = None
        if status is not None:
            receipt = Receipt(status=status, message_id=msg.message_id, provider_message_id=ref)
        return Lookup(known=True, receipt=receipt)

    def error(self, code: Any, text: Any = None) -> ProviderError:
        """A ProviderError for an SMSC error code; unknown codes are transient."""
        try:
            number = int(code)
        except (TypeError, ValueError):
            return ProviderError(TRANSIENT, "bad_response", f"SMSC error without a code: {text}")
        kind, name = ERRORS.get(number, (TRANSIENT, f"smsc_{number}"))
        detail = mask_phones_in_text(str(text or "error"))  # a gateway may echo the number
        return ProviderError(kind, name, f"SMSC {number}: {detail}")

    # --- callbacks --------------------------------------------------------------------

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """One status callback (`id`, `status`, `err`) → one receipt, matched by our id."""
        ref, raw_status = str(data.get("id") or "").strip(), data.get("status")
        if not ref or raw_status in (None, ""):
            return []  # another kind of notification: nothing to apply, still answer 200
        try:
            code = int(str(raw_status).strip())
        except ValueError as exc:
            raise ValueError(f"SMSC status must be a number, got {raw_status!r}") from exc
        status = STATUSES.get(code)
        if status is None:
            return []
        err = str(data.get("err") or "").strip()
        error_code = None
        if status in _FAILED:  # SMSC's `err` says why (0 = no error); else the status itself
            error_code = err if err not in ("", "0") else str(code)
        return [
            Receipt(
                status=status,
                message_id=ref,
                provider_message_id=ref,
                at=_time(data),
                error_code=error_code,
                cost=to_decimal(data.get("cost")),
            )
        ]


def _time(data: Mapping[str, Any]) -> datetime | None:
    """The status time when SMSC sends it as a Unix timestamp (`ts` or `time`)."""
    for key in ("ts", "time"):
        value = str(data.get(key) or "").strip()
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
    return None


__all__ = ["ERRORS", "STATUSES", "VIBER_BUTTON_PARAMS", "SmscProvider", "valid_param"]
