"""Pure SMPP 3.4 helpers for the SMPP adapter: no sockets, no threads, unit-testable.

- GSM 03.38 default alphabet encoder/decoder, one septet per octet ("unpacked"), which is what
  data_coding 0 means on an SMPP link: the SMSC packs septets itself for the air interface.
- `build_submit_parts`: the short_message bodies of a text's submit_sm PDUs. The cut points come
  from `shared.segments` (the relay's own exact counter), never from smpplib's `make_parts`:
  that one splits the *encoded bytes* every 153/134 octets, so it can cut an extension
  character's ESC from its code or a surrogate pair in half, and its GSM table maps "`" to 0x5F
  where GSM has "§" (and rejects "§"). Counting in one place also keeps the relay's segment
  count, its cost estimate and what is sent identical.
- Receipt text parsing and the status tables (module constants, as the design asks).

Over 300 lines because of those tables (the GSM alphabet and its extension table, the
command-status classification).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import NamedTuple

from relay.providers.base import PERMANENT, THROTTLED, TRANSIENT, Receipt
from shared.segments import GSM7, count_segments

DC_GSM7, DC_IA5, DC_LATIN1, DC_CYRILLIC, DC_UCS2 = 0x00, 0x01, 0x03, 0x06, 0x08
ESM_UDHI = 0x40
# esm_class bits 2-5 are the message type on deliver_sm (SMPP 3.4 §5.2.12)
ESM_TYPE_MASK, ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE = 0x3C, 0x04, 0x20
REGISTERED_DELIVERY = 0x01  # SMSC delivery receipt requested (success and failure)

ESME_ROK, ESME_RX_T_APPN = 0x00, 0x64

# The GSM 03.38 default alphabet in code order 0x00-0x7F (0x1B is the escape).
GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_ESCAPE = 0x1B
# The default extension table: sent as ESC + code.
GSM7_EXTENSION: dict[str, int] = {
    "\x0c": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_GSM7_CODE = {char: code for code, char in enumerate(GSM7_TABLE) if code != GSM7_ESCAPE}
_GSM7_EXT_CHAR = {code: char for char, code in GSM7_EXTENSION.items()}

# command_status → (error kind, relay error code). Codes not listed are transient: retrying an
# unknown vendor code a bounded number of times is cheaper than losing a message to it.
COMMAND_STATUS: dict[int, tuple[str, str]] = {
    0x58: (THROTTLED, "throttled"),  # ESME_RTHROTTLED
    0x14: (TRANSIENT, "queue_full"),  # ESME_RMSGQFUL
    0x08: (TRANSIENT, "system_error"),  # ESME_RSYSERR
    0x04: (TRANSIENT, "not_bound"),  # ESME_RINVBNDSTS
    0x05: (TRANSIENT, "already_bound"),  # ESME_RALYBND
    0x0D: (TRANSIENT, "bind_failed"),  # ESME_RBINDFAIL (often "too many binds")
    0x64: (TRANSIENT, "temporary_app_error"),  # ESME_RX_T_APPN
    0xFF: (TRANSIENT, "unknown_error"),  # ESME_RUNKNOWNERR
    0x0E: (PERMANENT, "auth_failed"),  # ESME_RINVPASWD
    0x0F: (PERMANENT, "auth_failed"),  # ESME_RINVSYSID
    0x53: (PERMANENT, "auth_failed"),  # ESME_RINVSYSTYP
    0x01: (PERMANENT, "invalid_message_length"),  # ESME_RINVMSGLEN
    0x0A: (PERMANENT, "invalid_source"),  # ESME_RINVSRCADR
    0x48: (PERMANENT, "invalid_source"),  # ESME_RINVSRCTON
    0x49: (PERMANENT, "invalid_source"),  # ESME_RINVSRCNPI
    0x0B: (PERMANENT, "invalid_destination"),  # ESME_RINVDSTADR
    0x50: (PERMANENT, "invalid_destination"),  # ESME_RINVDSTTON
    0x51: (PERMANENT, "invalid_destination"),  # ESME_RINVDSTNPI
    0x43: (PERMANENT, "invalid_esm_class"),  # ESME_RINVESMCLASS
    0x45: (PERMANENT, "submit_failed"),  # ESME_RSUBMITFAIL
    0x61: (PERMANENT, "invalid_schedule"),  # ESME_RINVSCHED
    0x62: (PERMANENT, "invalid_validity"),  # ESME_RINVEXPIRY
    0x65: (PERMANENT, "rejected"),  # ESME_RX_P_APPN
    0x66: (PERMANENT, "rejected"),  # ESME_RX_R_APPN
}

# Receipt `stat:` values (and message_state names) → relay status; None = no status change.
RECEIPT_STATUS: dict[str, str | None] = {
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "EXPIRED": "expired",
    "REJECTD": "failed",
    "DELETED": "failed",
    "ACCEPTD": "sent",
    "UNKNOWN": None,
    "ENROUTE": None,
}
# message_state TLV values (SMPP 3.4 §5.2.28) by their receipt-text names.
MESSAGE_STATE: dict[int, str] = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

_RECEIPT_KEY = re.compile(
    r"(?:^|(?<=\s))(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE
)


class SubmitPart(NamedTuple):
    """One submit_sm body: (data_coding, esm_class, short_message)."""

    data_coding: int
    esm_class: int
    short_message: bytes


class Concat(NamedTuple):
    """A concatenated-SMS header: reference, total parts, this part's 1-based number."""

    ref: int
    total: int
    seq: int


class ConcatBuffer:
    """Inbound parts held until all of a message's parts are in (bounded, thread-safe)."""

    def __init__(
        self,
        ttl: float = 600.0,
        max_entries: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._lock = threading.Lock()
        self._parts: dict[Hashable, tuple[float, dict[int, bytes]]] = {}

    def add(self, key: Hashable, concat: Concat, payload: bytes) -> bytes | None:
        """Store one part; all payloads joined in order once complete, else None.

        Bytes are joined before decoding: a phone may cut a surrogate pair or an escape.
        The entry stays until `discard`, so a redelivered last part completes it again.
        """
        now = self.clock()
        with self._lock:
            for stale in [k for k, (at, _) in self._parts.items() if now - at > self.ttl]:
                del self._parts[stale]
            if key not in self._parts and len(self._parts) >= self.max_entries:
                self._parts.pop(next(iter(self._parts)))  # the oldest
            parts = self._parts.setdefault(key, (now, {}))[1]
            parts[concat.seq] = payload
            if len(parts) < concat.total:
                return None
            return b"".join(parts[seq] for seq in sorted(parts))

    def discard(self, key: Hashable) -> None:
        """Forget a delivered message's parts."""
        with self._lock:
            self._parts.pop(key, None)


def classify_status(status: int) -> tuple[str, str]:
    """(kind, code) for a non-zero command_status."""
    return COMMAND_STATUS.get(status, (TRANSIENT, f"smsc_error_0x{status:02x}"))


def gsm7_encode(text: str) -> bytes:
    """GSM 03.38 default alphabet, one septet per octet; extension chars as ESC + code."""
    out = bytearray()
    for char in text:
        if char in GSM7_EXTENSION:
            out += bytes((GSM7_ESCAPE, GSM7_EXTENSION[char]))
        elif char in _GSM7_CODE:
            out.append(_GSM7_CODE[char])
        else:
            raise ValueError(f"{char!r} is not in the GSM 03.38 default alphabet")
    return bytes(out)


def gsm7_decode(data: bytes) -> str:
    """Inverse of gsm7_encode; an unknown escape shows the basic-table character (03.38)."""
    out: list[str] = []
    escaped = False
    for octet in data:
        code = octet & 0x7F
        if escaped:
            out.append(_GSM7_EXT_CHAR.get(code, GSM7_TABLE[code]))
            escaped = False
        elif code == GSM7_ESCAPE:
            escaped = True
        else:
            out.append(GSM7_TABLE[code])
    return "".join(out)


def concat_udh(ref: int, total: int, seq: int) -> bytes:
    """The 8-bit-reference concatenation UDH: 05 00 03 ref total seq."""
    return bytes((0x05, 0x00, 0x03, ref, total, seq))


def build_submit_parts(text: str, ref: int, encoding: str | None = None) -> list[SubmitPart]:
    """The submit_sm bodies for `text`, cut where `shared.segments` cuts it.

    One part: no UDH, esm_class 0. Several: esm_class UDHI and each body prefixed with a
    concatenation UDH carrying `ref` (0-255, one per message), the total and the part number.
    `encoding` forces "ucs2" (as `count_segments` does). Raises ValueError for an empty text.
    """
    if not 0 <= ref <= 0xFF:
        raise ValueError(f"ref must be 0-255, got {ref!r}")
    info = count_segments(text, encoding)
    if not info.parts:
        raise ValueError("an empty text has no parts")
    if info.segments > 0xFF:
        raise ValueError(f"{info.segments} parts do not fit an 8-bit concatenation header")
    if info.encoding == GSM7:
        data_coding, encode = DC_GSM7, gsm7_encode
    else:
        data_coding, encode = DC_UCS2, _utf16be
    if info.segments == 1:
        return [SubmitPart(data_coding, 0, encode(info.parts[0]))]
    total = info.segments
    return [
        SubmitPart(data_coding, ESM_UDHI, concat_udh(ref, total, seq) + encode(part))
        for seq, part in enumerate(info.parts, start=1)
    ]


def _utf16be(text: str) -> bytes:
    return text.encode("utf-16-be")  # strict: a lone surrogate is a bad text, not a bad SMS


def split_udh(esm_class: int, short_message: bytes) -> tuple[Concat | None, bytes]:
    """(concatenation info or None, payload without UDH) of a received short_message."""
    if not esm_class & ESM_UDHI or not short_message:
        return None, short_message
    udhl = short_message[0]
    udh, payload = short_message[1 : 1 + udhl], short_message[1 + udhl :]
    pos = 0
    while pos + 2 <= len(udh):
        iei, length = udh[pos], udh[pos + 1]
        value = udh[pos + 2 : pos + 2 + length]
        if iei == 0x00 and length == 3:
            return Concat(value[0], value[1], value[2]), payload
        if iei == 0x08 and length == 4:  # 16-bit reference variant
            return Concat(int.from_bytes(value[:2], "big"), value[2], value[3]), payload
        pos += 2 + length
    return None, payload


def decode_text(data_coding: int, payload: bytes) -> str:
    """Text of a received payload by data_coding (0 is taken as GSM 03.38, per SMPP 3.4)."""
    if data_coding == DC_UCS2:
        return payload.decode("utf-16-be", "replace")
    if data_coding == DC_GSM7:
        return gsm7_decode(payload)
    if data_coding == DC_IA5:
        return payload.decode("ascii", "replace")
    if data_coding == DC_CYRILLIC:
        return payload.decode("iso8859-5", "replace")
    return payload.decode("latin-1")


def parse_receipt_text(text: str) -> dict[str, str]:
    """Fields of a receipt's text, keys lower-cased as written ("submit date", "stat" …).

    `id:123 sub:001 dlvrd:001 submit date:2601151200 done date:2601151201 stat:DELIVRD err:000
    text:Hello` → {"id": "123", …, "text": "Hello"}. `text:` is last and keeps its spaces (and
    any "id:" inside the original message's first characters). Missing fields are absent.
    """
    matches = list(_RECEIPT_KEY.finditer(text))
    fields: dict[str, str] = {}
    for index, match in enumerate(matches):
        key = match.group(1).lower()
        if key == "text":
            fields[key] = text[match.end() :].strip()
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    return fields


def receipt_text(data_coding: int, short_message: bytes) -> str:
    """A receipt body as text: ASCII in practice, so never run it through the GSM table."""
    if data_coding == DC_UCS2:
        return short_message.decode("utf-16-be", "replace")
    return short_message.decode("latin-1")


def build_receipt(
    text: str,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
) -> Receipt | None:
    """A Receipt from a receipt deliver_sm; None when it says nothing the relay can apply.

    The TLVs win over the text when present: they are structured, while the text's `id:` is
    sometimes truncated or re-based (hex vs decimal) by SMSCs.
    """
    fields = parse_receipt_text(text)
    provider_id = receipted_message_id or fields.get("id")
    stat = MESSAGE_STATE.get(message_state or 0) or fields.get("stat", "").upper()
    status = RECEIPT_STATUS.get(stat)
    if not provider_id or status is None:
        return None
    err = fields.get("err", "")
    error_code = None
    if status not in ("delivered", "sent"):
        error_code = f"{stat} err:{err}" if err.strip("0") else stat
    return Receipt(status=status, provider_message_id=provider_id, error_code=error_code)


def is_receipt(esm_class: int) -> bool:
    """True for a deliver_sm that is a delivery receipt (final or intermediate)."""
    return (esm_class & ESM_TYPE_MASK) in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE)


def sender_ton_npi(sender: str) -> tuple[int, int]:
    """Source TON/NPI by the sender's shape: digits → international/ISDN, else alphanumeric."""
    digits = sender.removeprefix("+")
    if digits.isdigit() and digits.isascii():
        return 1, 1
    return 5, 0
