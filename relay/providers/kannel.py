"""Kannel 1.4.x: smsbox's HTTP `sendsms`, delivery reports on `dlr-url`, MO on `get-url`.

The Kannel groups this relies on (tests/support/kannel.py writes a working kannel.conf):
- `sendsms-user`: `max-messages` >= `max_parts` and `concatenation = true`; Kannel's default
  is ONE part, and it cuts the rest off silently while still answering 202.
- `sms-service`: `get-url = "<inbound callback>?from=%p&to=%P&text=%a&coding=%c&charset=%C&ts=%T
  &smsc=%i&id=%I"`, `omit-empty = true`, `max-messages = 0`: smsbox sends a get-url answer back
  to the subscriber as an SMS; the relay answers empty, and `max-messages = 0` makes sure.
- `smsbox`: `mo-recode = true`, so a UCS-2 MO reaches get-url as UTF-8.

Numbers go to Kannel in E.164 with the `+`: it is in smsbox's default `sendsms-chars`, the SMPP
driver turns a leading `+` into TON international (and strips it), the fake SMSC keeps it.
sendsms is a GET (1.4.x refuses form-encoded POST bodies), so the password is in the query:
error texts here never include the URL.

Over 300 lines because it is one adapter class (config checks, sendsms, receipts, inbound,
admin status) whose Kannel-specific rules are easier to check side by side than apart.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from relay.providers.base import (
    AMBIGUOUS,
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    Inbound,
    OutboundMessage,
    Provider,
    ProviderConfigError,
    ProviderError,
    Receipt,
    SendResult,
    retry_after_seconds,
)
from shared.segments import UCS2, count_segments

log = logging.getLogger("relay.providers.kannel")

# smsbox's answer (start of the body, worded in smsbox.c) → (error kind, code); None = accepted.
# The body decides: the status alone is ambiguous (403 is a bad password and "not routable").
ANSWERS: tuple[tuple[str, str | None, str], ...] = (
    ("0: Accepted for delivery", None, "accepted"),
    ("3: Queued for later delivery", None, "queued"),  # held in bearerbox: SMSC not connected
    ("Sent.", None, "accepted"),  # the answer with `immediate-sendsms-reply = true`
    ("Authorization failed", PERMANENT, "auth_failed"),
    ("Not routable", PERMANENT, "not_routable"),  # no SMSC takes this number / smsc id
    ("Number(s) has/have been denied", PERMANENT, "number_denied"),  # white/black lists
    ("Sender missing", PERMANENT, "sender_missing"),
    ("Charset or body misformed", PERMANENT, "bad_text"),
    ("Temporal failure", TRANSIENT, "temporary_failure"),  # bearerbox: try again later
    ("Sending failed", TRANSIENT, "sending_failed"),  # smsbox lost bearerbox / queue full
)
# The fallback by HTTP status. An unexpected 2xx is PERMANENT on purpose: it may have been
# sent, and a retry must never send it twice. smsbox never answers 504 itself: a proxy in front
# gave up waiting for it, so smsbox may have queued the message (ambiguous, never resent).
STATUS_KINDS: dict[int | str, tuple[str | None, str]] = {
    202: (None, "accepted"),
    403: (PERMANENT, "auth_failed"),
    429: (THROTTLED, "throttled"),
    504: (AMBIGUOUS, "gateway_timeout"),
    "2xx": (PERMANENT, "unexpected_answer"),
    "4xx": (PERMANENT, "rejected"),
    "5xx": (TRANSIENT, "unavailable"),
}
# Kannel DLR type (%d) → relay status. 4 "buffered" (the SMSC queued it) says nothing new and
# must not change the status: None, no receipt.
DLR_STATUSES: dict[int, str | None] = {
    1: "delivered",
    2: "undelivered",  # failed at the handset / network
    4: None,
    8: "sent",  # the SMSC took it
    16: "failed",  # the SMSC rejected it
}
FAILED_RECEIPTS = frozenset({"undelivered", "failed"})
DLR_QUERY = "status=%d&answer=%A&ts=%T&smsc=%i"  # Kannel expands these when it calls back
DEFAULTS: dict[str, Any] = {
    "default_sender": None,
    "smsc": None,
    "dlr_mask": 31,
    "timeout": 10,
    "max_parts": 10,
    "admin_url": None,
    "admin_password": None,
    "concurrency": 4,
}
REQUIRED = ("sendsms_url", "username", "password")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")  # a `%` in an id would be a Kannel escape
# Only a failed *connect* is retried here (nothing reached smsbox, so nothing was sent).
_RETRY = urllib3.Retry(total=None, connect=1, read=0, status=0, other=0, redirect=0)


SENDS_PER_CONNECTION = 8


class KannelProvider(Provider):
    """smsbox `sendsms` over keep-alive HTTP, several sends in flight per batch."""

    type: ClassVar[str] = "kannel"
    channels: ClassVar[frozenset[str]] = frozenset({"sms"})

    def __init__(self, name: str, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(name, config, **kwargs)
        self._pid, self._http = os.getpid(), self._pool()
        # one send_many call takes SENDS_PER_CONNECTION messages per connection and keeps
        # `concurrency` of them in flight: each call costs a committed "attempt started" marker,
        # and smsbox answers in about a millisecond, so a group of `concurrency` paid a commit
        # per few milliseconds of sending (docs/security.md, "Stranded batches")
        self.in_flight = int(self.config["concurrency"]) * SENDS_PER_CONNECTION

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Check required keys, URLs, ranges; fill defaults; refuse unknown keys (typos)."""
        if unknown := sorted(set(config) - set(REQUIRED) - set(DEFAULTS)):
            raise ProviderConfigError(f"unknown kannel config keys: {', '.join(unknown)}")
        if missing := [k for k in REQUIRED if not config.get(k)]:
            raise ProviderConfigError(f"kannel config needs {', '.join(missing)}")
        out = {**DEFAULTS, **config}
        for key in ("username", "password", "default_sender", "smsc", "admin_password"):
            value = out[key]
            if value is not None and (
                not isinstance(value, str) or value.strip() != value or not value
            ):
                shown = "***" if "password" in key else repr(value)
                raise ProviderConfigError(f"kannel {key} must be a non-blank string, got {shown}")
        for key in ("sendsms_url", "admin_url"):
            value = out[key]
            parts = urlsplit(value) if isinstance(value, str) else None
            if (value is not None or key == "sendsms_url") and (
                parts is None or parts.scheme not in ("http", "https") or not parts.netloc
            ):
                raise ProviderConfigError(f"kannel {key} must be an http(s) URL, got {value!r}")
        if out["admin_url"]:
            out["admin_url"] = out["admin_url"].rstrip("/")
            if not out["admin_password"]:
                raise ProviderConfigError("kannel admin_url needs admin_password")
        if out["smsc"] is not None and not re.fullmatch(r"[\w.:-]+", out["smsc"]):
            raise ProviderConfigError(f"kannel smsc must be an smsc-id, got {out['smsc']!r}")
        # dlr-mask: smsbox accepts 0–63; parts: the UDH part counter is one octet
        for key, low, high in (("dlr_mask", 0, 63), ("max_parts", 1, 255), ("concurrency", 1, 32)):
            value = out[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ProviderConfigError(
                    f"kannel {key} must be an integer {low}–{high}, got {value!r}"
                )
        timeout = out["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ProviderConfigError(f"kannel timeout must be seconds > 0, got {timeout!r}")
        return out

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The sendsms password and the bearerbox admin password."""
        return (*super().secret_fields(), "admin_password")

    # -- sending -----------------------------------------------------------------------------

    def sendsms_params(self, msg: OutboundMessage) -> dict[str, str]:
        """The exact sendsms query for `msg`; PERMANENT ProviderError when it cannot go."""
        cfg = self.config
        info = count_segments(msg.text, UCS2 if msg.encoding == UCS2 else None)
        if info.segments == 0:
            raise ProviderError(PERMANENT, "empty_text", "an empty SMS is never sent")
        if info.segments > cfg["max_parts"]:
            raise ProviderError(
                PERMANENT,
                "too_many_parts",
                f"{info.segments} parts, the limit is {cfg['max_parts']}",
            )
        params = {
            "username": cfg["username"],
            "password": cfg["password"],
            "to": msg.phone,
            "text": msg.text,
        }
        if sender := msg.sender or cfg["default_sender"]:
            params["from"] = sender  # else Kannel's default-sender / global-sender
        if info.encoding == UCS2:  # the text goes as UTF-8; smsbox converts it to UCS-2
            params.update(coding="2", charset="UTF-8")
        if cfg["smsc"]:
            params["smsc"] = cfg["smsc"]
        dlr_base = self.callback_url("dlr")
        if cfg["dlr_mask"] and dlr_base:
            if not _SAFE_ID.match(msg.message_id):
                raise ProviderError(PERMANENT, "invalid_reference", "message id is not URL-safe")
            glue = "&" if "?" in dlr_base else "?"
            params["dlr-mask"] = str(cfg["dlr_mask"])
            # encoded once with the rest of the query; smsbox decodes it and expands %d …
            params["dlr-url"] = f"{dlr_base}{glue}id={msg.message_id}&{DLR_QUERY}"
        return params

    def _send(self, msg: OutboundMessage) -> SendResult:
        status, answer, retry_after = self._fetch(
            self.config["sendsms_url"], self.sendsms_params(msg)
        )
        kind, code = classify(status, answer)
        if kind is not None:
            wait = retry_after if kind == THROTTLED else None
            raise ProviderError(kind, code, f"HTTP {status}: {answer[:200]}", retry_after=wait)
        # 1.4.x answers carry no id: receipts find the message by our id in the dlr-url
        return SendResult(None, raw={"status": status, "answer": answer[:200], "code": code})

    def send_many(self, msgs: Sequence[OutboundMessage]) -> list[SendResult | ProviderError]:
        """Up to `concurrency` sends in flight: smsbox answers only once bearerbox has queued
        the message, so one at a time leaves the worker waiting. Results keep input order."""
        workers = min(self.config["concurrency"], len(msgs))
        if workers <= 1:
            return super().send_many(msgs)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kannel") as pool:
            return list(pool.map(self._send_or_error, msgs))

    def _send_or_error(self, msg: OutboundMessage) -> SendResult | ProviderError:
        try:
            return self.send(msg)
        except ProviderError as exc:
            return exc

    def _pool(self) -> urllib3.PoolManager:
        # urllib3 directly: requests spent ~1 ms of CPU per call here, urllib3 ~0.35 ms
        timeout = float(self.config["timeout"])
        return urllib3.PoolManager(
            num_pools=4,
            maxsize=self.config["concurrency"],
            retries=_RETRY,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            headers={"User-Agent": "relay-kannel/1"},
        )

    def _get(self, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        """`_fetch` without the Retry-After."""
        status, answer, _ = self._fetch(url, params)
        return status, answer

    def _fetch(self, url: str, params: Mapping[str, str]) -> tuple[int, str, float | None]:
        """GET on a keep-alive pool: status, answer text and Retry-After (seconds). Network
        errors as a ProviderError without the URL (its query holds the password)."""
        if os.getpid() != self._pid:  # forked: never share the parent's sockets
            self._pid, self._http = os.getpid(), self._pool()
        where = urlsplit(url)
        try:
            resp = self._http.request(
                "GET", f"{url}{'&' if where.query else '?'}{urlencode(params)}"
            )
        except MaxRetryError as exc:
            raise _network_error(exc.reason or exc, where.netloc) from None
        except HTTPError as exc:
            raise _network_error(exc, where.netloc) from None
        answer = resp.data.decode("utf-8", "replace").strip()
        return resp.status, answer, retry_after_seconds(resp.headers.get("Retry-After"))

    # -- callbacks -----------------------------------------------------------------------------

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """A dlr-url call: `id` is our message id, `status` Kannel's DLR type (DLR_STATUSES)."""
        message_id, raw = str(data.get("id") or "").strip(), str(data.get("status") or "").strip()
        if not message_id:
            raise ValueError("Kannel DLR without id: the dlr-url must carry ?id=<message id>")
        if not raw.isdigit() or int(raw) not in DLR_STATUSES:
            raise ValueError(
                f"Kannel DLR status must be one of {sorted(DLR_STATUSES)}, got {raw!r}"
            )
        if (status := DLR_STATUSES[int(raw)]) is None:
            return []
        answer = str(data.get("answer") or "").strip()[:100] or None
        # `at` stays unset: %T has whole seconds and would sort the receipt before the `sent`
        # entry of the same second in the history; the arrival time is exact enough
        error = answer if status in FAILED_RECEIPTS else None
        return [Receipt(status=status, message_id=message_id, error_code=error)]

    def parse_inbound(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Inbound]:
        """An sms-service get-url call (see the module docstring for its query)."""
        sender, recipient = str(data.get("from") or "").strip(), str(data.get("to") or "").strip()
        text = data.get("text")
        if not sender or not recipient or not isinstance(text, str):
            raise ValueError("Kannel MO needs from, to and text (get-url ?from=%p&to=%P&text=%a)")
        coding, charset = str(data.get("coding") or "0"), str(data.get("charset") or "").upper()
        if coding == "1":
            log.info("binary MO ignored", extra={"provider": self.name})
            return []
        if coding == "2" or charset in ("UTF-16BE", "UCS-2"):
            text = _ucs2_text(text)
        ts = str(data.get("ts") or "")
        received_at = datetime.fromtimestamp(int(ts), UTC) if ts.isdigit() else None
        ref = str(data.get("id") or "") or None  # %I: Kannel's id, the same on a retry
        return [Inbound(sender, recipient, text, received_at, ref, raw=dict(data))]

    def callback_response(self, kind: str) -> tuple[str, int, dict[str, str]]:
        """Always an empty body: smsbox turns a get-url answer into a reply SMS."""
        return ("", 200, {"Content-Type": "text/plain"})

    # -- health ----------------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """bearerbox's status.xml when `admin_url` is set; else an authenticated sendsms without
        `to`: smsbox checks the password (403), then refuses the missing number (400) before
        anything is queued, so nothing is ever sent."""
        cfg = self.config
        if cfg["admin_url"]:
            return self._admin_status()
        auth = {"username": cfg["username"], "password": cfg["password"]}
        status, answer = self._get(cfg["sendsms_url"], auth)
        if status == 400 and answer.startswith("Missing receiver"):
            return {"ok": True, "via": "sendsms"}
        kind, code = classify(status, answer)
        raise ProviderError(
            kind or TRANSIENT,
            code if kind else "unexpected_answer",
            f"HTTP {status}: {answer[:200]}",
        )

    def _admin_status(self) -> dict[str, Any]:
        url = f"{self.config['admin_url']}/status.xml"
        status, body = self._get(url, {"password": self.config["admin_password"]})
        if body == "Denied":  # bearerbox answers a wrong password with a 200
            raise ProviderError(PERMANENT, "auth_failed", "bearerbox admin password refused")
        if status != 200:
            raise ProviderError(TRANSIENT, "unavailable", f"status.xml: HTTP {status}")
        root = ElementTree.fromstring(body)  # our own gateway's answer
        smscs = [
            {"id": s.findtext("id"), "status": s.findtext("status")} for s in root.iter("smsc")
        ]
        wanted = [s for s in smscs if self.config["smsc"] in (None, s["id"])]
        online = any((s["status"] or "").startswith("online") for s in wanted)
        state = (root.findtext("status") or "").split(",")[0]
        return {
            "ok": state == "running" and online,
            "via": "admin",
            "status": state,
            "smscs": smscs,
        }


def classify(status: int, answer: str) -> tuple[str | None, str]:
    """(error kind or None for accepted, code) for a sendsms answer; see ANSWERS."""
    for prefix, kind, code in ANSWERS:
        if answer.startswith(prefix):
            return kind, code
    if status in STATUS_KINDS:
        return STATUS_KINDS[status]
    return STATUS_KINDS.get(f"{status // 100}xx", (TRANSIENT, "unexpected_answer"))


def _network_error(exc: BaseException, netloc: str) -> ProviderError:
    # NewConnectionError is a ConnectTimeoutError subclass in urllib3 2.x: both mean no
    # connection was made, so nothing was sent and a retry is safe. A read timeout or a reset
    # after the request was written may have been accepted: ambiguous, never retried blindly.
    if isinstance(exc, NewConnectionError | ConnectTimeoutError):
        return ProviderError(TRANSIENT, "not_connected", f"no connection to {netloc}")
    if isinstance(exc, Urllib3Timeout):
        return ProviderError(AMBIGUOUS, "timeout", f"no answer from {netloc} in time")
    return ProviderError(AMBIGUOUS, "connection_lost", f"{type(exc).__name__} talking to {netloc}")


def _ucs2_text(text: str) -> str:
    """UCS-2 MO text that arrived raw (smsbox without `mo-recode`): the callback decoded the
    %-escaped UTF-16BE bytes as UTF-8, so encoding back gives them again, unless a byte was not
    valid UTF-8 and became U+FFFD."""
    raw = text.encode("utf-8")
    if "\ufffd" in text or len(raw) % 2:
        raise ValueError("UCS-2 MO text arrived undecodable: set `mo-recode = true` in smsbox")
    return raw.decode("utf-16-be")
