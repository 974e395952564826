"""Twilio adapter (type "twilio"): SMS through Twilio's Programmable Messaging REST API.

Followed: the Messages resource (https://www.twilio.com/docs/messaging/api/message-resource:
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields To, From or
MessagingServiceSid, Body, StatusCallback; HTTP basic auth AccountSid:AuthToken), "Twilio API
responses" (https://www.twilio.com/docs/usage/twilios-response: errors are JSON `code`,
`message`, `more_info`, `status`), the error dictionary (https://www.twilio.com/docs/api/errors/
<code>, e.g. /20429: "never processed and always safe to retry"), and "Secure webhooks"
(https://www.twilio.com/docs/usage/webhooks/webhooks-security: X-Twilio-Signature = base64
HMAC-SHA1, keyed with the AuthToken, of the full URL Twilio called followed by every POST
parameter name and value, sorted by name).

- StatusCallback is our public dlr URL plus `?ref=<our message id>`: Twilio's callbacks name only
  its own MessageSid, and a fast "sent" callback can arrive before the worker has stored that
  sid; the ref lets the receipt find the message anyway. The ref is in the signed URL.
- Signatures are checked against `callback_url(kind)`, i.e. RELAY_PUBLIC_URL. It must be exactly
  the URL Twilio calls (scheme, host, port, path); behind a proxy that rewrites any of them
  every callback is rejected. The inbound webhook of the Twilio number (or Messaging Service)
  must be set to `<RELAY_PUBLIC_URL>/callbacks/<name>/<token>/inbound`.
- A bad or missing signature raises PermissionError: the callback endpoint should answer 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    Inbound,
    OutboundMessage,
    ProviderConfigError,
    ProviderError,
    Receipt,
    SendResult,
    retry_after_seconds,
)
from relay.providers.httpbase import HttpProvider, network_error, to_decimal
from shared.phones import mask_phones_in_text

API = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# Twilio error codes → (kind, relay code). Source: https://www.twilio.com/docs/api/errors/<code>.
ERRORS: dict[int, tuple[str, str]] = {
    20003: (PERMANENT, "auth_failed"),  # Authentication failed (HTTP 401)
    20404: (PERMANENT, "not_found"),  # Resource not found (wrong AccountSid in the path)
    20429: (THROTTLED, "rate_limited"),  # Too many requests (HTTP 429), safe to retry
    14107: (THROTTLED, "rate_limited"),  # Message rate limit exceeded
    20500: (TRANSIENT, "unavailable"),  # Internal server error
    20503: (TRANSIENT, "unavailable"),  # Service unavailable
    21211: (PERMANENT, "invalid_phone"),  # Invalid 'To' phone number
    21214: (PERMANENT, "invalid_phone"),  # 'To' phone number cannot be reached
    21408: (PERMANENT, "no_route"),  # Permission to send to this region not enabled
    21602: (PERMANENT, "empty_text"),  # Message body is required
    21603: (PERMANENT, "bad_request"),  # 'From' phone number is required
    21606: (PERMANENT, "sender_not_allowed"),  # 'From' number not valid for this account
    21610: (PERMANENT, "unsubscribed"),  # Recipient replied STOP: Twilio blocks the send
    21612: (PERMANENT, "no_route"),  # 'To' cannot be reached from this 'From'
    21614: (PERMANENT, "invalid_phone"),  # 'To' is not a valid mobile number
    21617: (PERMANENT, "too_long"),  # Body exceeds the 1600 character limit
    30001: (TRANSIENT, "queue_overflow"),  # Queue overflow: sent too fast, try again
    30002: (PERMANENT, "account_suspended"),  # Account suspended
}

# MessageStatus values → relay receipt status. Source: the Messages resource, "Message Status
# values". None: not a delivery outcome (still on its way, or an inbound message).
# AMBIGUOUS: partially_delivered (some parts of a long message) has no relay equivalent; it is
# not recorded, so a later final status still applies.
STATUSES: dict[str, str | None] = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "receiving": None,
    "received": None,
    "partially_delivered": None,
}
_FAILED = {"undelivered", "failed"}


def signature(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """Twilio's X-Twilio-Signature for `url` and the POST `params`."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class TwilioProvider(HttpProvider):
    """SMS through Twilio. Config: account_sid, auth_token (secret), from_number or
    messaging_service_sid, base_url."""

    type: ClassVar[str] = "twilio"
    default_base_url: ClassVar[str] = "https://api.twilio.com"
    config_keys: ClassVar[frozenset[str]] = frozenset(
        {"account_sid", "auth_token", "from_number", "messaging_service_sid"}
    )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Credentials are required, and a sender: from_number or messaging_service_sid."""
        config = super().validate_config(config)
        config["account_sid"] = cls.require(config, "account_sid")
        if not config["account_sid"].startswith("AC"):
            raise ProviderConfigError("twilio: account_sid must start with AC")
        config["auth_token"] = cls.require(config, "auth_token")
        config["from_number"] = cls.optional(config, "from_number")
        config["messaging_service_sid"] = cls.optional(config, "messaging_service_sid")
        if not (config["from_number"] or config["messaging_service_sid"]):
            raise ProviderConfigError("twilio: from_number or messaging_service_sid is required")
        return config

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The AuthToken is the credential (and the webhook signing key)."""
        return ("auth_token",)

    def __init__(self, name: str, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(name, config, **kwargs)
        self.session.auth = (self.config["account_sid"], self.config["auth_token"])

    def _path(self, resource: str = "") -> str:
        return f"{API}/Accounts/{self.config['account_sid']}{resource}.json"

    # --- sending ----------------------------------------------------------------------

    def status_callback(self, msg: OutboundMessage) -> str | None:
        """Our dlr URL with the message id as `ref` (None without RELAY_PUBLIC_URL)."""
        base = self.callback_url("dlr")
        return f"{base}?ref={quote(msg.message_id, safe='')}" if base else None

    def form(self, msg: OutboundMessage) -> dict[str, str]:
        """The Messages.json form for one message; the sender is configured in Twilio."""
        form = {"To": msg.phone, "Body": msg.text}
        if self.config["messaging_service_sid"]:
            form["MessagingServiceSid"] = self.config["messaging_service_sid"]
        else:
            form["From"] = self.config["from_number"]
        callback = self.status_callback(msg)
        if callback:
            form["StatusCallback"] = callback
        return form

    def _send(self, msg: OutboundMessage) -> SendResult:
        resp = self.post(self._path("/Messages"), data=self.form(msg))
        if resp.status_code >= 400:
            raise self.error(resp)
        body = self.json_answer(resp)
        price = to_decimal(body.get("price"))  # negative ("-0.0075") once known; mostly null now
        status = body.get("status")
        return SendResult(
            provider_message_id=body.get("sid"),
            cost=abs(price) if price is not None else None,
            currency=(body.get("price_unit") or None) if price is not None else None,
            immediate_status=STATUSES.get(status) if status in _FAILED else None,
            raw={k: body.get(k) for k in ("sid", "status", "error_code", "num_segments")},
        )

    def error(self, resp: requests.Response) -> ProviderError:
        """Classify an HTTP error answer by Twilio's `code`, else by the HTTP status."""
        try:
            body = resp.json()
        except ValueError:
            body = {}
        code, text = body.get("code"), body.get("message") or resp.reason
        if isinstance(code, int) and code in ERRORS:
            kind, name = ERRORS[code]
        elif resp.status_code == 401:
            kind, name = PERMANENT, "auth_failed"
        elif resp.status_code == 429:
            kind, name = THROTTLED, "rate_limited"
        elif resp.status_code >= 500:
            kind, name = TRANSIENT, f"http_{resp.status_code}"
        else:
            kind, name = PERMANENT, f"twilio_{code}" if code else f"http_{resp.status_code}"
        # Twilio echoes the number in some messages ("The 'To' number +7… is not valid")
        detail = mask_phones_in_text(str(text))
        if resp.status_code == 429:  # whatever the code in the body: a throttle waits
            kind = THROTTLED
        return ProviderError(
            kind,
            name,
            f"Twilio {code or resp.status_code}: {detail}",
            retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
        )

    def check(self) -> dict[str, Any]:
        """GET the Account resource: proves AccountSid/AuthToken and that it is active."""
        try:
            resp = self.get(self._path())
        except requests.RequestException as exc:
            raise network_error(exc) from exc
        if resp.status_code >= 400:
            raise self.error(resp)
        body = self.json_answer(resp)
        if body.get("status") != "active":
            raise ProviderError(
                PERMANENT, "account_inactive", f"Twilio account is {body.get('status')!r}"
            )
        return {"ok": True, "status": "active", "name": body.get("friendly_name")}

    # --- callbacks --------------------------------------------------------------------

    def verify(
        self, kind: str, data: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """Check X-Twilio-Signature; return the POST parameters. PermissionError when bad."""
        given = _header(headers, SIGNATURE_HEADER)
        url = self.callback_url(kind)
        if not given or not url:
            raise PermissionError("Twilio callback without a signature (or no public URL)")
        params = dict(data)
        if kind == "dlr" and "ref" in params:  # our query parameter is part of the URL
            url = f"{url}?ref={quote(str(params.pop('ref')), safe='')}"
        expected = signature(self.config["auth_token"], url, params)
        if not hmac.compare_digest(expected.encode(), str(given).encode()):
            raise PermissionError("Twilio callback signature does not match")
        return params

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """A status callback (MessageSid, MessageStatus, ErrorCode) → a receipt."""
        params = self.verify("dlr", data, headers)
        sid, raw_status = params.get("MessageSid"), params.get("MessageStatus")
        if not sid or not raw_status:
            raise ValueError("Twilio status callback needs MessageSid and MessageStatus")
        status = STATUSES.get(str(raw_status))
        if status is None:
            return []
        error = str(params.get("ErrorCode") or "") or None
        return [
            Receipt(
                status=status,
                message_id=data.get("ref") or None,
                provider_message_id=str(sid),
                error_code=error if status in _FAILED else None,
            )
        ]

    def parse_inbound(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Inbound]:
        """Twilio's incoming-message webhook (From, To, Body, MessageSid) → an inbound."""
        params = self.verify("inbound", data, headers)
        if not params.get("From") or not params.get("MessageSid"):
            raise ValueError("Twilio inbound webhook needs From and MessageSid")
        return [
            Inbound(
                sender=str(params["From"]),
                recipient=str(params.get("To") or ""),
                text=str(params.get("Body") or ""),
                provider_ref=str(params["MessageSid"]),
                raw=params,
            )
        ]

    def callback_response(self, kind: str) -> tuple[str, int, dict[str, str]]:
        """Empty TwiML for incoming messages (no auto-reply); an empty 200 for statuses."""
        if kind == "inbound":
            return (EMPTY_TWIML, 200, {"Content-Type": "text/xml; charset=utf-8"})
        return ("", 200, {"Content-Type": "text/plain"})


__all__ = ["ERRORS", "STATUSES", "TwilioProvider", "signature"]
