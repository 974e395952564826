"""A stand-in for SMS.ru's HTTP API (https://sms.ru/api/send, /api/cost, /api/status, callbacks).

Checks what SMS.ru documents: POST only (code 210 for GET), UTF-8 text (212), a known api_id
(200), `json=1` (otherwise SMS.ru answers its plain-text format), digits-only numbers (202 per
number), a non-empty text (203) and an approved sender (204). Answers with the documented JSON.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn, json_response, parse_form

PHONE = re.compile(r"^\d{11,15}$")
TEXTS = {
    200: "Неправильный api_id",
    202: "Неправильно указан номер телефона получателя",
    203: "Нет текста сообщения",
    204: "Имя отправителя не согласовано с администрацией",
    210: "Используется GET, где необходимо использовать POST",
    211: "Метод не найден",
    212: "Текст сообщения необходимо передать в кодировке UTF-8",
    220: "Сервис временно недоступен, попробуйте чуть позже",
}


def parts(text: str) -> int:
    """SMS parts as SMS.ru counts them (GSM 160/153, anything else 70/67)."""
    ucs2 = any(ord(ch) > 127 for ch in text)
    single, multi = (70, 67) if ucs2 else (160, 153)
    return 1 if len(text) <= single else math.ceil(len(text) / multi)


class SmsRuStandIn(StandIn):
    """SMS.ru. `per_number[phone] = code` fails one number; `fail_next = code` the request;
    `http_status` answers every request with that HTTP status; `send_cost` adds cost/sms."""

    def __init__(self, api_id: str, senders: tuple[str, ...] = ("SHOP",)) -> None:
        super().__init__()
        self.api_id, self.senders = api_id, set(senders)
        self.per_number: dict[str, int] = {}
        self.fail_next: int | None = None
        self.http_status: int | None = None
        self.send_cost: str | None = None
        self.price = "3.45"
        self._next_id = 10000000

    def took(self, response: Response, call: Call) -> bool:
        """SMS.ru answers errors with HTTP 200 too: it took a message when it gave an sms_id."""
        return call.path == "/sms/send" and b'"sms_id"' in response.get_data()

    def error(self, code: int) -> Response:
        return json_response(
            {"status": "ERROR", "status_code": code, "status_text": TEXTS.get(code, "Ошибка")}
        )

    def handle(self, request: Request, call: Call) -> Response:
        if self.http_status:
            return Response("Bad Gateway", status=self.http_status)
        if request.method != "POST":
            return self.error(210)
        if request.mimetype != "application/x-www-form-urlencoded":
            return self.error(212)
        try:
            form = parse_form(call.body, "utf-8")
        except (UnicodeError, ValueError):
            return self.error(212)
        call.params = form
        if form.get("json") != "1":  # the documented non-JSON answer: one code per line
            return Response("100\n000000-10000000\nbalance=0", content_type="text/plain")
        if form.get("api_id") != self.api_id:
            return self.error(200)
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            return self.error(code)
        route = {
            "/sms/send": self._send,
            "/sms/cost": self._cost,
            "/my/balance": self._balance,
        }.get(request.path)
        return route(form) if route else self.error(211)

    def _numbers(self, form: dict[str, str]) -> Response | list[str]:
        if not form.get("msg"):
            return self.error(203)
        if "from" in form and form["from"] not in self.senders:
            return self.error(204)
        if form.get("test", "1") != "1":
            return self.error(211)
        return [n for n in form.get("to", "").split(",") if n]

    def _send(self, form: dict[str, str]) -> Response:
        numbers = self._numbers(form)
        if isinstance(numbers, Response):
            return numbers
        sms: dict[str, Any] = {}
        for number in numbers:
            code = self.per_number.get(number) or (100 if PHONE.match(number) else 202)
            if code != 100:
                sms[number] = {
                    "status": "ERROR",
                    "status_code": code,
                    "status_text": TEXTS.get(code, "Ошибка"),
                }
                continue
            self._next_id += 1
            sms[number] = {"status": "OK", "status_code": 100, "sms_id": f"000000-{self._next_id}"}
            if self.send_cost is not None:
                sms[number].update(cost=self.send_cost, sms=parts(form["msg"]))
        return json_response({"status": "OK", "status_code": 100, "sms": sms, "balance": 4122.56})

    def _cost(self, form: dict[str, str]) -> Response:
        numbers = self._numbers(form)
        if isinstance(numbers, Response):
            return numbers
        count = parts(form["msg"])
        sms = {
            n: {"status": "OK", "status_code": 100, "cost": float(self.price) * count, "sms": count}
            for n in numbers
        }
        return json_response(
            {
                "status": "OK",
                "status_code": 100,
                "sms": sms,
                "total_cost": float(self.price) * count * len(numbers),
                "total_sms": count * len(numbers),
            }
        )

    def _balance(self, form: dict[str, str]) -> Response:
        return json_response({"status": "OK", "status_code": 100, "balance": 4122.56})

    # --- what SMS.ru POSTs to the callback handler ------------------------------------

    def callback_form(self, entries: list[str]) -> dict[str, str]:
        """`data[0]`, `data[1]` … and `hash` = sha256(api_id + entries in order)."""
        form = {f"data[{i}]": entry for i, entry in enumerate(entries)}
        form["hash"] = hashlib.sha256((self.api_id + "".join(entries)).encode()).hexdigest()
        return form
