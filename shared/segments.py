"""Exact SMS segment counting and splitting: GSM 03.38 (7-bit) or UCS-2.

GSM-7: up to 160 septets in one SMS; a longer text goes in parts of at most 153 septets (the
user data header takes the other 7). Extension-table characters cost two septets (ESC + code)
and are never split across parts.

UCS-2: up to 70 UTF-16 code units in one SMS, else parts of at most 67. Characters outside the
Basic Multilingual Plane (most emoji) are surrogate pairs, two units, never split across parts.
One character outside GSM basic + extension makes the whole text UCS-2.

An empty text is 0 segments, encoding "gsm7", no parts: an empty SMS is never sent, so it should
cost nothing and must not look like one message in previews.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "gsm7"
UCS2 = "ucs2"
ENCODINGS = (GSM7, UCS2)
MAX_PARTS = 10  # a sensible default ceiling; gateways enforce their own

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# The GSM 03.38 default alphabet in code order 0x00-0x7F (0x1B is the escape to the extension
# table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The default extension table: each is sent as ESC + code, two septets.
GSM7_EXTENSION = frozenset("\x0c^{}\\[~]|€")
# U+001B itself cannot be sent: on the air 0x1B means "extension character follows", so a text
# containing it is not representable in GSM-7 and goes UCS-2.
_GSM7_ENCODABLE = (GSM7_BASIC - {"\x1b"}) | GSM7_EXTENSION


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels as SMS.

    `characters` is len(text) (code points); `units` is septets for gsm7 and UTF-16 code units
    for ucs2; `parts` is the text cut exactly where the phone network cuts it.
    """

    encoding: str
    segments: int
    characters: int
    units: int
    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.segments != len(self.parts):
            raise ValueError(f"segments must equal the number of parts, got {self.segments!r}")
        if min(self.characters, self.units) < 0:
            raise ValueError(f"counts must not be negative, got {(self.characters, self.units)!r}")


def detect_encoding(text: str) -> str:
    """ "gsm7" when every character is in the GSM basic or extension table, else "ucs2"."""
    return GSM7 if _GSM7_ENCODABLE.issuperset(text) else UCS2


def _cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # astral code point: a surrogate pair


def _units(text: str, encoding: str) -> int:
    if encoding == GSM7:
        return len(text) + sum(1 for char in text if char in GSM7_EXTENSION)
    # surrogatepass: a lone surrogate in a Python str is still one unit, not an error.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _split(text: str, encoding: str, units: int) -> list[str]:
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == GSM7 else (UCS2_SINGLE, UCS2_PART)
    if not text:
        return []
    if units <= single:
        return [text]
    # Greedy by whole characters: a two-unit character (extension char, surrogate pair) that
    # does not fit starts the next part instead of being cut in half.
    parts: list[str] = []
    start, used = 0, 0
    for index, char in enumerate(text):
        cost = _cost(char, encoding)
        if used + cost > part:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def _check_encoding(text: str, encoding: str | None) -> str:
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {text!r}")
    natural = detect_encoding(text)
    if encoding is None:
        return natural
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if encoding == GSM7 and natural == UCS2:
        raise ValueError(f"text has characters outside GSM 03.38, got {text!r}")
    return encoding


def count_segments(text: str, encoding: str | None = None) -> SegmentInfo:
    """Count and split `text` as an SMS. `encoding` forces "ucs2" (or checks "gsm7")."""
    encoding = _check_encoding(text, encoding)
    units = _units(text, encoding)
    parts = tuple(_split(text, encoding, units))
    return SegmentInfo(encoding, len(parts), len(text), units, parts)


def split_parts(text: str, encoding: str | None = None) -> list[str]:
    """The parts `text` is sent in ([] for ""); "".join(parts) == text always."""
    encoding = _check_encoding(text, encoding)
    return _split(text, encoding, _units(text, encoding))


def fits(text: str, max_parts: int = MAX_PARTS) -> bool:
    """True when `text` needs at most `max_parts` segments."""
    if isinstance(max_parts, bool) or not isinstance(max_parts, int) or max_parts < 1:
        raise ValueError(f"max_parts must be a positive int, got {max_parts!r}")
    return count_segments(text).segments <= max_parts
