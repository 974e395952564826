"""A stand-in for SMSC.ru's HTTP API (https://smsc.ru/api/http/send/, .../status_messages/).

Checks what SMSC documents: login/psw (error 2), `fmt=3` for JSON (otherwise the default text
answer), the text decoded with the `charset` parameter (default windows-1251, so UTF-8 sent
without `charset=utf-8` arrives garbled, as on SMSC), phone format (7), a client `id` of at most
40 of [A-Za-z0-9.-_] (1), registered senders (6), `valid=hh:mm` within 00:01…24:00 (1) and
`fileurl` being an http(s) URL (1). Answers `{"id", "cnt", "cost", "balance"}` for `cost=3` and
`{"cost", "cnt"}` for `cost=1` (price only, nothing sent).
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn, json_response, parse_form
from tests.support.standins.smsru import parts

PHONE = re.compile(r"^\+?\d{10,15}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
VALID = re.compile(r"^(\d{1,2}):(\d{2})$")
TEXTS = {
    1: "parameters error",
    2: "authorise error",
    3: "no money",
    6: "message is denied",
    7: "invalid number",
    8: "can't deliver",
    9: "duplicate request, wait a minute",
}


class SmscStandIn(StandIn):
    """SMSC. `per_phone[phone] = code` fails one number; `fail_next = code` the next request;
    `http_status` answers every request with that HTTP status."""

    def __init__(
        self,
        login: str,
        psw: str,
        senders: tuple[str, ...] = ("SHOP",),
        viber_senders: tuple[str, ...] = ("Shop Viber",),
    ) -> None:
        super().__init__()
        self.login, self.psw = login, psw
        self.senders, self.viber_senders = set(senders), set(viber_senders)
        self.per_phone: dict[str, int] = {}
        self.fail_next: int | None = None
        self.http_status: int | None = None
        self.price = "2.50"
        self._ids = itertools.count(1001)

    def took(self, response: Response, call: Call) -> bool:
        """SMSC answers errors with HTTP 200 too: it took a message when it gave an id."""
        return call.path == "/sys/send.php" and "id" in call.extra

    def error(self, code: int) -> Response:
        return json_response({"error": TEXTS.get(code, "error"), "error_code": code})

    def handle(self, request: Request, call: Call) -> Response:
        if self.http_status:
            return Response("Service Unavailable", status=self.http_status)
        raw = call.body if request.method == "POST" else request.query_string
        # SMSC reads `charset` first, then decodes the text with it (windows-1251 by default)
        charset = dict(parse_qsl(raw.decode("ascii"), encoding="latin-1")).get(
            "charset", "windows-1251"
        )
        try:
            params = parse_form(raw, {"utf-8": "utf-8", "koi8-r": "koi8_r"}.get(charset, "cp1251"))
        except (UnicodeError, ValueError):
            return self.error(1)
        call.params = params
        if params.get("fmt") != "3":
            return Response("ERROR = 1 (parameters error)", content_type="text/plain")
        if params.get("login") != self.login or params.get("psw") != self.psw:
            return self.error(2)
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            return self.error(code)
        if request.path == "/sys/balance.php":
            return json_response({"balance": "1234.50"})
        if request.path == "/sys/status.php":  # by our id and the number: 1 delivered, -3 none
            taken = {c.extra.get("id") for c in self.accepted}
            status = 1 if params.get("id") in taken and params.get("phone") else -3
            return json_response({"status": status, "last_timestamp": 1768478400})
        if request.path != "/sys/send.php":
            return Response("Not Found", status=404)
        return self._send(params, call)

    def _send(self, p: dict[str, str], call: Call) -> Response:
        phone, mes = p.get("phones", ""), p.get("mes", "")
        if not phone or not mes:
            return self.error(1)
        if not PHONE.match(phone):
            return self.error(7)
        if "id" in p and not CLIENT_ID.match(p["id"]):
            return self.error(1)
        viber = p.get("viber") == "1"
        if "sender" in p and p["sender"] not in (self.viber_senders if viber else self.senders):
            return self.error(6)
        if "valid" in p:
            match = VALID.match(p["valid"])
            minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else 0
            if not 1 <= minutes <= 24 * 60:
                return self.error(1)
        if "fileurl" in p and not p["fileurl"].startswith(("http://", "https://")):
            return self.error(1)
        if phone in self.per_phone:
            return self.error(self.per_phone[phone])
        count = 1 if viber else parts(mes)
        cost = f"{float(self.price) * count:.2f}"
        mode = p.get("cost", "0")
        if mode == "1":
            return json_response({"cost": cost, "cnt": count})
        ref = p.get("id") or str(next(self._ids))
        call.extra["id"] = ref
        answer: dict[str, object] = {"id": ref, "cnt": count}
        if mode in ("2", "3"):
            answer["cost"] = cost
        if mode == "3":
            answer["balance"] = "1231.00"
        return json_response(answer)

    # --- what SMSC POSTs to the status handler -----------------------------------------

    @staticmethod
    def status_form(ref: str, phone: str, status: int, err: int = 0) -> dict[str, str]:
        """A status notification: id, phone, status, err and the time as a Unix timestamp."""
        return {
            "id": ref,
            "phone": phone.lstrip("+"),
            "status": str(status),
            "err": str(err),
            "ts": "1768478400",
        }
