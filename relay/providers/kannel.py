"""Kannel 1.4.x: smsbox's HTTP `sendsms`, delivery reports on `dlr-url`, MO on `get-url`.

Kannel groups this adapter relies on (see tests/support/kannel.py for a working file):

- `sendsms-user`: `max-messages = 10` (at least `max_parts`) and `concatenation = true`.
  Kannel's default is ONE part and it silently truncates the rest while answering 202.
- `sms-service` (MO): `get-url = "<inbound callback>?from=%p&to=%P&text=%a&coding=%c&charset=%C
  &ts=%T&smsc=%i&id=%I"`, `omit-empty = true` and `max-messages = 0`: smsbox sends a get-url
  answer back to the subscriber as an SMS, so the relay answers with an empty body and
  `max-messages = 0` makes sure nothing is ever sent back even if it did not.
- `smsbox`: `mo-recode = true`, so a UCS-2 MO reaches get-url as UTF-8 text.

Numbers go to Kannel in E.164 *with* the `+`: `+` is in smsbox's default
`sendsms-chars`, the SMPP driver turns a leading `+` into TON international (stripping it),
and the fake SMSC passes it through as is.
"""

from __future__ import annotations

import logging
import os
import queue
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from relay.providers.base import (
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
)
from shared.segments import UCS2, count_segments

log = logging.getLogger("relay.providers.kannel")

# smsbox's answer (start of the body) → (error kind, code); kind None means accepted. Kannel
# words its answers in smsbox.c; the HTTP status alone is ambiguous (403 is both "bad password"
# and "not routable"), so the body decides and STATUS_KINDS is only the fallback.
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
# HTTP status → (kind, code) when the body is not one of ANSWERS. An unexpected 2xx is
# PERMANENT on purpose: it may have been sent, and a retry must never send it twice.
STATUS_KINDS: dict[int | str, tuple[str | None, str]] = {
    202: (None, "accepted"),
    403: (PERMANENT, "auth_failed"),
    429: (THROTTLED, "throttled"),
    "2xx": (PERMANENT, "unexpected_answer"),
    "4xx": (PERMANENT, "rejected"),
    "5xx": (TRANSIENT, "unavailable"),
}
# Kannel DLR type (%d) → relay status. 4 "buffered" (the SMSC queued it) says nothing new
# about the message and must not change its status, so it maps to None (no receipt).
DLR_STATUSES: dict[int, str | None] = {
    1: "delivered",
    2: "undelivered",
    4: None,
    8: "sent",
    16: "failed",
}
FAILED_RECEIPTS = frozenset({"undelivered", "failed"})
# %d status, %A the SMSC's answer, %T unix time, %i smsc id: Kannel substitutes these.
DLR_QUERY = "status=%d&answer=%A&ts=%T&smsc=%i"
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
# our message ids are hex; anything else could carry a `%` that Kannel would try to expand
_SAFE_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


def _http_url(config: dict[str, Any], key: str) -> str:
    value = config.get(key)
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProviderConfigError(f"kannel {key} must be an http(s) URL, got {value!r}")
    return value.rstrip("/") if key == "admin_url" else value


def _int(config: dict[str, Any], key: str, low: int, high: int) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProviderConfigError(f"kannel {key} must be an integer {low}–{high}, got {value!r}")
    return value


class KannelProvider(Provider):
    """Sends through smsbox `sendsms` (GET: 1.4.x ignores form-encoded POST bodies)."""

    type: ClassVar[str] = "kannel"
    channels: ClassVar[frozenset[str]] = frozenset({"sms"})

    def __init__(self, name: str, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(name, config, **kwargs)
        # keep-alive sessions, one per concurrent sender, reused across batches
        self._sessions: queue.SimpleQueue[requests.Session] = queue.SimpleQueue()
        self._pid = os.getpid()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Check required keys, URLs, ranges; fill defaults; refuse unknown keys (typos)."""
        unknown = sorted(set(config) - set(REQUIRED) - set(DEFAULTS))
        if unknown:
            raise ProviderConfigError(f"unknown kannel config keys: {', '.join(unknown)}")
        missing = [k for k in REQUIRED if not config.get(k)]
        if missing:
            raise ProviderConfigError(f"kannel config needs {', '.join(missing)}")
        out = {**DEFAULTS, **config}
        out["sendsms_url"] = _http_url(out, "sendsms_url")
        for key in ("username", "password", "default_sender", "smsc", "admin_password"):
            value = out[key]
            if value is not None and (
                not isinstance(value, str) or not value.strip() or value != value.strip()
            ):
                raise ProviderConfigError(
                    f"kannel {key} must be a non-blank string, got "
                    f"{'***' if 'password' in key else repr(value)}"
                )
        if out["smsc"] is not None and not re.fullmatch(r"[\w.:-]+", out["smsc"]):
            raise ProviderConfigError(f"kannel smsc must be an smsc-id, got {out['smsc']!r}")
        out["dlr_mask"] = _int(out, "dlr_mask", 0, 63)  # smsbox accepts 0–63
        out["max_parts"] = _int(out, "max_parts", 1, 255)  # one-octet UDH part counter
        out["concurrency"] = _int(out, "concurrency", 1, 32)
        timeout = out["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ProviderConfigError(f"kannel timeout must be seconds > 0, got {timeout!r}")
        if out["admin_url"] is not None:
            out["admin_url"] = _http_url(out, "admin_url")
            if not out["admin_password"]:
                raise ProviderConfigError("kannel admin_url needs admin_password")
        return out

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The sendsms password and the bearerbox admin password."""
        return (*super().secret_fields(), "admin_password")

    # -- sending -----------------------------------------------------------------------------

    def sendsms_params(self, msg: OutboundMessage) -> dict[str, str]:
        """The exact sendsms query for `msg`; PERMANENT ProviderError when it cannot go."""
        cfg = self.config
        forced = UCS2 if msg.encoding == UCS2 else None
        info = count_segments(msg.text, forced)
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
        sender = msg.sender or cfg["default_sender"]
        if sender:
            params["from"] = sender
        if info.encoding == UCS2:
            # requests sends the text as UTF-8; charset tells smsbox to convert it to UCS-2
            params.update(coding="2", charset="UTF-8")
        if cfg["smsc"]:
            params["smsc"] = cfg["smsc"]
        dlr_base = self.callback_url("dlr")
        if cfg["dlr_mask"] and dlr_base:
            if not _SAFE_ID.match(msg.message_id):
                raise ProviderError(
                    PERMANENT, "invalid_reference", f"message id {msg.message_id!r} is not URL-safe"
                )
            glue = "&" if "?" in dlr_base else "?"
            params["dlr-mask"] = str(cfg["dlr_mask"])
            # requests percent-encodes the whole value once; smsbox decodes it and then
            # expands %d/%A/%T/%i itself when it calls back
            params["dlr-url"] = f"{dlr_base}{glue}id={msg.message_id}&{DLR_QUERY}"
        return params

    def _send(self, msg: OutboundMessage) -> SendResult:
        params = self.sendsms_params(msg)
        session = self._session()
        try:
            resp = session.get(
                self.config["sendsms_url"], params=params, timeout=self.config["timeout"]
            )
        finally:
            self._sessions.put(session)
        answer = resp.text.strip()
        kind, code = classify(resp.status_code, answer)
        if kind is not None:
            raise ProviderError(kind, code, f"HTTP {resp.status_code}: {answer[:200]}")
        # 1.4.x answers carry no id of their own: receipts find the message by our id
        return SendResult(
            provider_message_id=None,
            raw={"status": resp.status_code, "answer": answer[:200], "code": code},
        )

    def send_many(self, msgs: Sequence[OutboundMessage]) -> list[SendResult | ProviderError]:
        """Several sendsms calls in flight at once (smsbox answers each in ~1 ms, so one at a
        time leaves the worker waiting on round trips); results keep the input order."""
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

    def _session(self) -> requests.Session:
        if os.getpid() != self._pid:  # forked: sockets of the parent must not be shared
            self._sessions, self._pid = queue.SimpleQueue(), os.getpid()
        try:
            return self._sessions.get_nowait()
        except queue.Empty:
            return requests.Session()

    # -- callbacks -----------------------------------------------------------------------------

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """A dlr-url call: `id` is our message id, `status` Kannel's DLR type (DLR_STATUSES)."""
        message_id = str(data.get("id") or "").strip()
        raw = str(data.get("status") or "").strip()
        if not message_id:
            raise ValueError("Kannel DLR without id: the dlr-url must carry ?id=<message id>")
        if not raw.isdigit() or int(raw) not in DLR_STATUSES:
            raise ValueError(
                f"Kannel DLR status must be one of {sorted(DLR_STATUSES)}, got {raw!r}"
            )
        status = DLR_STATUSES[int(raw)]
        if status is None:
            return []
        answer = str(data.get("answer") or "").strip()
        # Receipt.at stays unset: %T has whole seconds only and would sort a receipt before
        # the `sent` entry of the same second in the history; arrival time is exact enough
        return [
            Receipt(
                status=status,
                message_id=message_id,
                error_code=(answer[:100] or None) if status in FAILED_RECEIPTS else None,
            )
        ]

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
        return [
            Inbound(
                sender=sender,
                recipient=recipient,
                text=text,
                received_at=received_at,
                provider_ref=str(data.get("id") or "") or None,
                raw=dict(data),
            )
        ]

    def callback_response(self, kind: str) -> tuple[str, int, dict[str, str]]:
        """Always an empty body: smsbox turns a get-url answer into a reply SMS."""
        return ("", 200, {"Content-Type": "text/plain"})

    # -- health ----------------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """bearerbox's status.xml when `admin_url` is set, else an authenticated sendsms without
        `to`: smsbox checks the password first (403), then refuses the missing number (400)
        before anything is queued, so nothing is ever sent."""
        try:
            if self.config["admin_url"]:
                return self._admin_status()
            resp = requests.get(
                self.config["sendsms_url"],
                timeout=self.config["timeout"],
                params={"username": self.config["username"], "password": self.config["password"]},
            )
        except requests.RequestException as exc:
            raise ProviderError(TRANSIENT, "connection", str(exc)) from exc
        answer = resp.text.strip()
        if resp.status_code == 400 and answer.startswith("Missing receiver"):
            return {"ok": True, "via": "sendsms"}
        kind, code = classify(resp.status_code, answer)
        raise ProviderError(
            kind or TRANSIENT,
            code if kind else "unexpected_answer",
            f"HTTP {resp.status_code}: {answer[:200]}",
        )

    def _admin_status(self) -> dict[str, Any]:
        from xml.etree import ElementTree  # our own gateway's answer, not untrusted input

        resp = requests.get(
            f"{self.config['admin_url']}/status.xml",
            params={"password": self.config["admin_password"]},
            timeout=self.config["timeout"],
        )
        if resp.text.strip() == "Denied":  # bearerbox answers a wrong password with 200
            raise ProviderError(PERMANENT, "auth_failed", "bearerbox admin password refused")
        if resp.status_code != 200:
            raise ProviderError(TRANSIENT, "unavailable", f"HTTP {resp.status_code}")
        root = ElementTree.fromstring(resp.content)
        smscs = [
            {"id": s.findtext("id"), "status": s.findtext("status")} for s in root.iter("smsc")
        ]
        wanted = [s for s in smscs if self.config["smsc"] in (None, s["id"])]
        online = any((s["status"] or "").startswith("online") for s in wanted)
        status = (root.findtext("status") or "").split(",")[0]
        return {
            "ok": status == "running" and online,
            "via": "admin",
            "status": status,
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


def _ucs2_text(text: str) -> str:
    """Recover UCS-2 MO text that reached us raw (smsbox without `mo-recode`). The callback
    decoded the %-escaped UTF-16BE bytes as UTF-8; re-encoding gives them back unless a byte
    was not valid UTF-8, which then shows as U+FFFD and is lost."""
    raw = text.encode("utf-8")
    if "\ufffd" in text or len(raw) % 2:
        raise ValueError("UCS-2 MO text arrived undecodable: set `mo-recode = true` in smsbox")
    return raw.decode("utf-16-be")
