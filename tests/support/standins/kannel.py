"""A stand-in for Kannel 1.4.x smsbox's `sendsms` (GET /cgi-bin/sendsms), for fault tables.

It answers the way smsbox does (gw/smsbox.c, the sendsms handler and its delayed answer once
bearerbox acknowledged the message), with the HTTP status and the text/html body it words:

    202 "0: Accepted for delivery"            bearerbox took it (ack_success)
    202 "3: Queued for later delivery"        bearerbox holds it: no SMSC up (ack_buffered)
    403 "Authorization failed for sendsms"    wrong username / password
    400 "Missing receiver number, rejected"   no `to`
    400 "Empty receiver number not allowed, rejected"
    403 "Not routable. Do not try again."     no SMSC takes the number (ack_failed)
    503 "Temporal failure, try again later."  bearerbox could not take it now (ack_failed_tmp)
    500 "Sending failed."                     smsbox could not hand it to bearerbox

`answer_next = (status, body)` plays one of bearerbox's answers for the next request;
`proxy_gives_up = (status, body)` has smsbox take the next message while a proxy in front
answers the client with that instead (a 504 after its own timeout); the base class's faults
(hang, reset, 5xx, 429) play the network. `accepted` holds the requests smsbox took (a 202 "0:"
or "3:", or taken behind the proxy): what Kannel would send.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from tests.support.standins import Call, StandIn

PATH = "/cgi-bin/sendsms"
ACCEPTED = (202, "0: Accepted for delivery")
QUEUED = (202, "3: Queued for later delivery")
NOT_ROUTABLE = (403, "Not routable. Do not try again.")
TEMPORAL_FAILURE = (503, "Temporal failure, try again later.")
SENDING_FAILED = (500, "Sending failed.")


class KannelStandIn(StandIn):
    """smsbox's sendsms for one `sendsms-user`; see the module docstring."""

    def __init__(self, username: str = "relay", password: str = "pw") -> None:
        super().__init__()
        self.username, self.password = username, password
        self.answer_next: tuple[int, str] | None = None
        self.proxy_gives_up: tuple[int, str] | None = None

    @property
    def sendsms_url(self) -> str:
        """The URL the adapter is configured with."""
        return f"{self.url}{PATH}"

    def took(self, response: Response, call: Call) -> bool:
        """smsbox took the message when it answered 202 with "0:" or "3:"."""
        body = response.get_data(as_text=True)
        taken = response.status_code == 202 and body.startswith(("0:", "3:"))
        return taken or bool(call.extra.get("taken"))

    def handle(self, request: Request, call: Call) -> Response:
        call.params = dict(request.args)
        if request.path != PATH:
            return _answer(404, "Unknown service")
        if request.method != "GET":  # 1.4.x reads a POST body as the text, never a form
            return _answer(400, "Invalid content-type")
        args = call.params
        if (args.get("username"), args.get("password")) != (self.username, self.password):
            return _answer(403, "Authorization failed for sendsms")
        if "to" not in args:
            return _answer(400, "Missing receiver number, rejected")
        if not args["to"]:
            return _answer(400, "Empty receiver number not allowed, rejected")
        status, body = self.answer_next or ACCEPTED
        self.answer_next = None
        if self.proxy_gives_up is not None and status == 202:
            call.extra["taken"] = True
            (status, body), self.proxy_gives_up = self.proxy_gives_up, None
        return _answer(status, body)


def _answer(status: int, body: str) -> Response:
    # smsbox's default sendsms answer headers
    return Response(body, status=status, content_type="text/html")
