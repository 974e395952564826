"""A stand-in for Twilio's REST API (Messages and Account resources) and its webhooks.

Checks what Twilio documents: HTTP basic auth AccountSid:AuthToken (401, code 20003), the
AccountSid in the path (404, 20404), a form body, `To` in E.164 (21211), `From` or
`MessagingServiceSid` (21603) that the account owns (21606), `Body` (21602) and an absolute
`StatusCallback` URL (21609). Answers 201 with the Message resource JSON. Webhooks it "sends"
are signed the documented way (HMAC-SHA1 of URL + sorted params, base64), computed here
independently of the relay's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn, json_response, parse_form

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGES = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
ACCOUNT = re.compile(r"^/2010-04-01/Accounts/([^/]+)\.json$")
TEXTS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio number.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    30001: "Queue overflow",
}


def twilio_error(code: int, status: int) -> Response:
    """Twilio's documented error body: code, message, more_info, status."""
    return json_response(
        {
            "code": code,
            "message": TEXTS.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status,
    )


class TwilioStandIn(StandIn):
    """Twilio. `per_number[to] = (code, http)` fails a recipient; `fail_next = (code, http)`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        numbers: tuple[str, ...] = ("+15005550006",),
        services: tuple[str, ...] = ("MG0123456789abcdef0123456789abcdef",),
    ) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.numbers, self.services = set(numbers), set(services)
        self.per_number: dict[str, tuple[int, int]] = {}
        self.fail_next: tuple[int, int] | None = None
        self.account_status = "active"
        self._seq = itertools.count(1)

    def handle(self, request: Request, call: Call) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return twilio_error(20003, 401)
        path = MESSAGES.match(request.path) or ACCOUNT.match(request.path)
        if path is None or path.group(1) != auth.username:
            return twilio_error(20404, 404)
        if request.method == "GET" and ACCOUNT.match(request.path):
            return json_response(
                {
                    "sid": self.account_sid,
                    "friendly_name": "Shop account",
                    "status": self.account_status,
                    "type": "Full",
                }
            )
        if request.method != "POST" or not MESSAGES.match(request.path):
            return twilio_error(20404, 404)
        if request.mimetype != "application/x-www-form-urlencoded":
            return twilio_error(21602, 400)
        call.params = form = parse_form(call.body, "utf-8")
        if self.fail_next is not None:
            (code, status), self.fail_next = self.fail_next, None
            return twilio_error(code, status)
        return self._create(form)

    def _create(self, form: dict[str, str]) -> Response:
        to = form.get("To", "")
        if not E164.match(to):
            return twilio_error(21211, 400)
        service, sender = form.get("MessagingServiceSid"), form.get("From")
        if not service and not sender:
            return twilio_error(21603, 400)
        if (service and service not in self.services) or (sender and sender not in self.numbers):
            return twilio_error(21606, 400)
        if not form.get("Body"):
            return twilio_error(21602, 400)
        callback = form.get("StatusCallback")
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            return twilio_error(21609, 400)
        if to in self.per_number:
            code, status = self.per_number[to]
            return twilio_error(code, status)
        sid = f"SM{next(self._seq):032x}"
        return json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": sender,
                "messaging_service_sid": service,
                "body": form["Body"],
                "status": "accepted" if service else "queued",
                "num_segments": "1",
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "date_created": "Thu, 15 Jan 2026 12:00:00 +0000",
                "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            201,
        )

    # --- webhooks Twilio sends -----------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature: base64(HMAC-SHA1(token, url + k1 + v1 + k2 + v2 … sorted))."""
        data = url + "".join(k + params[k] for k in sorted(params))
        mac = hmac.new(self.auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode("ascii")

    def status_callback(
        self,
        url: str,
        sid: str,
        status: str,
        to: str = "+375291234567",
        error_code: str | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers of a status callback to `url` (as sent in StatusCallback)."""
        form = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": to,
            "From": next(iter(self.numbers)),
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        # the query string is part of the signed URL, not of the POST parameters
        return form, {"X-Twilio-Signature": self.sign(url, form)}

    def incoming(self, url: str, sender: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers of an incoming-message webhook to `url`."""
        form = {
            "AccountSid": self.account_sid,
            "MessageSid": f"SM{next(self._seq):032x}",
            "From": sender,
            "To": next(iter(self.numbers)),
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        return form, {"X-Twilio-Signature": self.sign(url, form)}


def query(url: str) -> dict[str, str]:
    """The query parameters of a URL (Twilio keeps them in the URL it signs)."""
    return dict(parse_qsl(urlsplit(url).query))
