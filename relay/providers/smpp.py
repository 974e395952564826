"""Direct SMPP 3.4 gateway adapter: `binds` transceiver binds per provider instance (1).

Sending: the text is cut by `shared.segments` (see `smpp_pdu` for why not smpplib's splitter)
and each part goes out as its own submit_sm, in order, with `registered_delivery=1`. The first
part's SMSC message id is the message's provider id; all ids are in `SendResult.raw`.

Faults (docs/security.md, "Duplicate sends"): a connection never made or a bind refused sent
nothing (transient, safely retried); an error command_status is the SMSC refusing the submit
(`smpp_pdu.COMMAND_STATUS`: throttled, transient or permanent); a submit_sm that was written
but whose submit_sm_resp never came (no answer in time, the link lost while waiting) may have
been taken, so it is ambiguous: the message becomes `unknown` and is never resent by itself.
So is any failure once a message's first part was taken: a resend would repeat that part.

Receipts and inbound messages do not come over HTTP here: the SMSC pushes them as deliver_sm
on the same connection, read by the session's reader thread. The relay receives them through
two hooks in the provider's `context`, called **from that reader thread**:

- `context["on_receipts"](receipts: list[Receipt])` for delivery receipts;
- `context["on_inbound"](messages: list[Inbound])` for subscriber messages (concatenated parts
  already joined).

A hook should be quick (it holds up reading the link), must not send through this provider
(the answer would be read by the very thread it blocks) and should raise on failure: the
deliver_sm is then answered with ESME_RX_T_APPN, so the SMSC delivers it again later. Without
a hook the item is logged and dropped. The SMSC may send receipts on any bind of the same
system_id, so the hooks must write to shared storage, not to process memory.

Window: up to `window` messages per bind are outstanding at once (default 1: each
submit_sm waits for its submit_sm_resp before the next). `send_many` sends a batch from
`window` × `binds` threads; each message's parts still go in order on one bind, and each
message keeps its own answer. The delivery job writes its "attempt started" marker for that
many messages at a time (`in_flight`), so a killed worker leaves at most that group with an
unknown outcome (docs/security.md, "Stranded batches"). Several binds only where the SMSC's
contract allows as many sessions per system_id.

Threads: the session's reader (answers requests, sends enquire_link when idle) and, once a
bind has succeeded, a watchdog that re-binds a dropped link with back-off so receipts keep
flowing between sends. Nothing connects at construction (web processes build providers too);
the first send, `start()` or `check()` does. `close()` unbinds and stops both threads.

Over 300 lines because it is one class whose bind, watchdog, send path and deliver_sm handler
share one session and its lock; the PDU rules are already apart in `smpp_pdu`, the link in
`smpp_session`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ClassVar

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
    SendResult,
)
from relay.providers.smpp_pdu import (
    ESME_ROK,
    REGISTERED_DELIVERY,
    Concat,
    ConcatBuffer,
    SubmitPart,
    build_receipt,
    build_submit_parts,
    classify_status,
    decode_text,
    is_receipt,
    receipt_text,
    sender_ton_npi,
    split_udh,
)
from relay.providers.smpp_session import (
    SmppBindError,
    SmppLinkError,
    SmppNoAnswer,
    SmppSession,
    as_text,
)
from shared.segments import ENCODINGS, count_segments

log = logging.getLogger("relay.providers.smpp")

# key → (type, default); REQUIRED marks keys without a default. "sender" is an alias.
REQUIRED = object()
CONFIG: dict[str, tuple[type, Any]] = {
    "host": (str, REQUIRED),
    "port": (int, 2775),
    "system_id": (str, REQUIRED),
    "password": (str, REQUIRED),
    "system_type": (str, ""),
    "source_addr": (str, None),
    "source_addr_ton": (int, None),
    "source_addr_npi": (int, None),
    "dest_addr_ton": (int, 1),
    "dest_addr_npi": (int, 1),
    "throughput": (float, None),
    "enquire_link_interval": (float, 30.0),
    "max_parts": (int, 10),
    "timeout": (float, 10.0),
    "window": (int, 1),
    "binds": (int, 1),
}
MAX_WINDOW, MAX_BINDS = 100, 10
PART_THROTTLE_RETRIES = 3  # a later part throttled: wait here rather than orphan the first
RECONNECT_MIN, RECONNECT_MAX = 0.5, 30.0


class SmppProvider(Provider):
    """SMPP 3.4 transceiver; see the module docstring for the receipt/inbound hooks."""

    type: ClassVar[str] = "smpp"
    channels: ClassVar[frozenset[str]] = frozenset({"sms"})

    def __init__(self, name: str, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(name, config, **kwargs)
        self._lock = threading.Lock()  # creating/replacing a session
        self._ref_lock = threading.Lock()  # the concatenation reference and the next bind
        self._pace_lock = threading.Lock()  # `throughput` across the threads of a window
        self._sessions: list[SmppSession | None] = [None] * self.config["binds"]
        self._next_bind = 0
        self.in_flight = self.config["window"] * self.config["binds"]
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._ref = random.randrange(256)
        self._next_submit = 0.0
        self._partial = ConcatBuffer()  # inbound parts waiting for their siblings

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Types, defaults and SMPP field limits; ProviderConfigError names the bad key."""
        if "sender" in config and "source_addr" not in config:
            config["source_addr"] = config.pop("sender")
        unknown = set(config) - set(CONFIG)
        if unknown:
            raise ProviderConfigError(f"smpp: unknown config keys {sorted(unknown)}")
        out: dict[str, Any] = {}
        for key, (kind, default) in CONFIG.items():
            value = config.get(key, default)
            if value is REQUIRED:
                raise ProviderConfigError(f"smpp: {key!r} is required")
            if value is not None:
                ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
                if not ok or isinstance(value, bool):
                    raise ProviderConfigError(f"smpp: {key!r} must be {kind.__name__}")
                value = kind(value)
            out[key] = value
        for key, limit in (
            ("system_id", 15),
            ("password", 8),
            ("system_type", 12),
            ("source_addr", 20),
        ):
            if out[key] is not None and (len(out[key]) > limit or not out[key].isascii()):
                raise ProviderConfigError(f"smpp: {key!r} must be ASCII, at most {limit} chars")
        for key in ("throughput", "enquire_link_interval", "timeout"):
            if out[key] is not None and out[key] <= 0:
                raise ProviderConfigError(f"smpp: {key!r} must be positive")
        if not 1 <= out["max_parts"] <= 255 or not 0 < out["port"] < 65536:
            raise ProviderConfigError("smpp: max_parts must be 1-255 and port 1-65535")
        if not 1 <= out["window"] <= MAX_WINDOW or not 1 <= out["binds"] <= MAX_BINDS:
            raise ProviderConfigError(
                f"smpp: window must be 1-{MAX_WINDOW} and binds 1-{MAX_BINDS}"
            )
        return out

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Only the bind password is a credential."""
        return ("password",)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind now and stay bound (receipts flow before the first send); ProviderError."""
        self._ensure_session()

    def close(self) -> None:
        """Unbind, stop the reader and the watchdog. The instance cannot send afterwards."""
        self._stop.set()
        with self._lock:
            sessions, self._sessions = self._sessions, [None] * len(self._sessions)
        for session in sessions:
            if session is not None:
                session.close()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(self.config["timeout"] + 1)

    def check(self) -> dict[str, Any]:
        """Bind and unbind (or, when already bound, an enquire_link round trip)."""
        session = self._sessions[0]
        if session is not None and session.alive:
            try:
                session.request("enquire_link")
            except SmppLinkError as exc:
                raise ProviderError(TRANSIENT, "connection", str(exc)) from exc
            return {"ok": True, "bound": True}
        session = self._bind_new()
        session.close()
        return {"ok": True, "system_id": session.system_id}

    def _bind_new(self) -> SmppSession:
        cfg = self.config
        session = SmppSession(
            cfg["host"],
            cfg["port"],
            timeout=cfg["timeout"],
            name=self.name,
            enquire_link_interval=cfg["enquire_link_interval"],
            on_deliver=self._on_deliver,
        )
        try:
            session.bind(cfg["system_id"], cfg["password"], cfg["system_type"])
        except SmppBindError as exc:
            kind, code = classify_status(exc.status)
            raise ProviderError(kind, code, f"bind refused: {exc}") from exc
        except SmppLinkError as exc:
            raise ProviderError(TRANSIENT, "connection", str(exc)) from exc
        session.start()
        return session

    def _ensure_session(self, slot: int = 0) -> SmppSession:
        with self._lock:
            if self._stop.is_set():
                raise ProviderError(TRANSIENT, "closed", f"smpp provider {self.name} is closed")
            session = self._sessions[slot]
            if session is not None and session.alive:
                return session
            if session is not None:
                session.close(unbind=False)
            self._sessions[slot] = session = self._bind_new()
            if self._watchdog is None:
                self._watchdog = threading.Thread(
                    target=self._watch, daemon=True, name=f"smpp-watchdog-{self.name}"
                )
                self._watchdog.start()
            return session

    def _watch(self) -> None:
        """Re-bind a dropped link so receipts keep arriving while nothing is being sent."""
        tick = min(1.0, self.config["enquire_link_interval"])
        delay = tick
        while not self._stop.wait(delay):
            dead = [i for i, s in enumerate(self._sessions) if s is None or not s.alive]
            if not dead:
                delay = tick
                continue
            try:
                for slot in dead:
                    self._ensure_session(slot)
                delay = tick
            except ProviderError as exc:
                delay = min(max(delay * 2, RECONNECT_MIN), RECONNECT_MAX)
                log.warning(
                    "smpp %s re-bind failed (next try in %.1f s): %s", self.name, delay, exc
                )

    # --- sending ---------------------------------------------------------------------------

    def send_many(self, msgs: Sequence[OutboundMessage]) -> list[SendResult | ProviderError]:
        """Up to `window` × `binds` messages outstanding: one submit_sm_resp at a time would
        leave the link idle for a round trip per message. Results keep input order."""
        workers = min(self.in_flight, len(msgs))
        if workers <= 1:
            return super().send_many(msgs)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smpp") as pool:
            return list(pool.map(self._send_or_error, msgs))

    def _send_or_error(self, msg: OutboundMessage) -> SendResult | ProviderError:
        try:
            return self.send(msg)
        except ProviderError as exc:
            return exc

    def _send(self, msg: OutboundMessage) -> SendResult:
        cfg = self.config
        encoding = msg.encoding if msg.encoding in ENCODINGS else None
        try:
            info = count_segments(msg.text, encoding)
        except ValueError as exc:
            raise ProviderError(PERMANENT, "invalid_text", str(exc)) from exc
        if info.segments == 0:
            raise ProviderError(PERMANENT, "empty_text", "an empty SMS is never sent")
        if info.segments > cfg["max_parts"]:
            raise ProviderError(
                PERMANENT,
                "too_many_parts",
                f"{info.segments} parts, at most {cfg['max_parts']} allowed",
            )
        sender = msg.sender or cfg["source_addr"] or ""
        if not sender.isascii() or len(sender) > 20:
            raise ProviderError(PERMANENT, "invalid_source", f"sender {sender!r} is not SMPP")
        ton, npi = sender_ton_npi(sender) if sender else (0, 0)
        destination = msg.phone.removeprefix("+")
        if not (destination.isdigit() and destination.isascii()):
            raise ProviderError(PERMANENT, "invalid_destination", "destination is not digits")
        with self._ref_lock:
            self._ref = ref = (self._ref + 1) % 256
            # a message's parts stay on one bind, in order
            slot, self._next_bind = self._next_bind, (self._next_bind + 1) % len(self._sessions)
        try:
            parts = build_submit_parts(msg.text, ref, encoding)
        except ValueError as exc:
            raise ProviderError(PERMANENT, "invalid_text", str(exc)) from exc
        fields = {
            "source_addr": sender.removeprefix("+") if ton == 1 else sender,
            "source_addr_ton": ton if cfg["source_addr_ton"] is None else cfg["source_addr_ton"],
            "source_addr_npi": npi if cfg["source_addr_npi"] is None else cfg["source_addr_npi"],
            "dest_addr_ton": cfg["dest_addr_ton"],
            "dest_addr_npi": cfg["dest_addr_npi"],
            "destination_addr": destination,
            "registered_delivery": REGISTERED_DELIVERY,
        }
        ids: list[str] = []
        for index, part in enumerate(parts):
            try:
                ids.append(self._submit(fields, part, index, len(parts), slot))
            except ProviderError as exc:
                if not ids or exc.kind in (PERMANENT, AMBIGUOUS):
                    raise
                # the first parts are out: sending the message again would send them twice
                raise ProviderError(
                    AMBIGUOUS,
                    "partly_sent",
                    f"{len(ids)} of {len(parts)} parts taken, then {exc.code}",
                ) from exc
        return SendResult(
            provider_message_id=ids[0],
            raw={
                "message_ids": ids,
                "parts": len(parts),
                "encoding": info.encoding,
                "ref": ref,
            },
        )

    def _submit(
        self, fields: dict[str, Any], part: SubmitPart, index: int, total: int, slot: int = 0
    ) -> str:
        where = f"part {index + 1} of {total}"
        for attempt in range(PART_THROTTLE_RETRIES + 1):
            session = self._ensure_session(slot)
            self._pace()
            try:
                resp = session.request(
                    "submit_sm",
                    esm_class=part.esm_class,
                    data_coding=part.data_coding,
                    short_message=part.short_message,
                    **fields,
                )
            except SmppNoAnswer as exc:
                # the submit_sm was written: the SMSC may have taken it (docs/security.md,
                # "Duplicate sends"), so the message is `unknown`, never resent by itself
                raise ProviderError(AMBIGUOUS, "no_answer", f"{where}: {exc}") from exc
            except SmppLinkError as exc:  # not bound, or the write failed: nothing was sent
                raise ProviderError(TRANSIENT, "connection", f"{where}: {exc}") from exc
            status = resp.status or (0x08 if resp.command == "generic_nack" else ESME_ROK)
            if status == ESME_ROK:
                return as_text(resp.message_id)
            kind, code = classify_status(status)
            if code == "not_bound":
                session.close(unbind=False)  # the next attempt re-binds
            if kind == THROTTLED and index > 0 and attempt < PART_THROTTLE_RETRIES:
                time.sleep(0.2 * 2**attempt)  # the first part is out: finish the message
                continue
            raise ProviderError(kind, code, f"{where}: command_status 0x{status:02x}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _pace(self) -> None:
        """At most `throughput` submit_sm per second from this instance (per process)."""
        if not self.config["throughput"]:
            return
        with self._pace_lock:  # each thread reserves its own slot in time
            now = time.monotonic()
            at = max(now, self._next_submit)
            self._next_submit = at + 1.0 / self.config["throughput"]
        if at > now:
            time.sleep(at - now)

    # --- receiving (reader thread) ---------------------------------------------------------

    def _on_deliver(self, pdu: Any) -> int:
        """Handle one deliver_sm; the command_status to answer it with."""
        esm, coding = pdu.esm_class or 0, pdu.data_coding or 0
        body = pdu.short_message or pdu.message_payload or b""
        if is_receipt(esm):
            receipt = build_receipt(
                receipt_text(coding, body),
                as_text(pdu.receipted_message_id) or None,
                pdu.message_state,
            )
            if receipt is not None:
                self._emit("on_receipts", [receipt])
            return ESME_ROK
        concat, payload = split_udh(esm, body)
        if concat is None and pdu.sar_msg_ref_num is not None:
            concat = Concat(
                pdu.sar_msg_ref_num, pdu.sar_total_segments or 1, pdu.sar_segment_seqnum or 1
            )
        sender, recipient = (
            _address(pdu.source_addr, pdu.source_addr_ton),
            as_text(pdu.destination_addr),
        )
        key, parts = None, 1
        if concat is not None and concat.total > 1:
            key = (sender, recipient, concat.ref, concat.total)
            joined = self._partial.add(key, concat, payload)
            if joined is None:
                return ESME_ROK  # held until the other parts arrive
            payload, parts = joined, concat.total
        self._emit(
            "on_inbound",
            [
                Inbound(
                    sender=sender,
                    recipient=recipient,
                    text=decode_text(coding, payload),
                    received_at=datetime.now(UTC),
                    raw={
                        "data_coding": coding,
                        "esm_class": esm,
                        "parts": parts,
                    },
                )
            ],
        )
        if key is not None:
            self._partial.discard(key)  # only once the hook took it: a redelivery rejoins
        return ESME_ROK

    def _emit(self, hook_name: str, items: list[Any]) -> None:
        hook = self.context.get(hook_name)
        if hook is None:
            log.warning("smpp %s: no %s hook, dropped %d item(s)", self.name, hook_name, len(items))
            return
        hook(items)


def _address(addr: Any, ton: int | None) -> str:
    """An international number as +E.164, anything else as sent."""
    text = as_text(addr)
    return f"+{text}" if ton == 1 and text.isdigit() else text
