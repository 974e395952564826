"""SMS segment counting and splitting (GSM 03.38 / UCS-2), checked to the character."""

from __future__ import annotations

import pytest

from shared.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_PARTS,
    SegmentInfo,
    count_segments,
    detect_encoding,
    fits,
    split_parts,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: 5 code points
SMILE = "\U0001f600"  # one emoji, a surrogate pair: 2 UTF-16 units

# (text, encoding, segments, units, part lengths in code points)
CASES = [
    ("", "gsm7", 0, 0, []),
    ("a", "gsm7", 1, 1, [1]),
    ("a" * 160, "gsm7", 1, 160, [160]),
    ("a" * 161, "gsm7", 2, 161, [153, 8]),
    ("a" * 306, "gsm7", 2, 306, [153, 153]),
    ("a" * 307, "gsm7", 3, 307, [153, 153, 1]),
    ("a" * 1530, "gsm7", 10, 1530, [153] * 10),
    ("a" * 159 + "€", "gsm7", 2, 161, [153, 7]),  # € pushes the text over 160
    ("a" * 158 + "€", "gsm7", 1, 160, [159]),  # … or exactly fills it
    ("a" * 152 + "€" + "b" * 10, "gsm7", 2, 164, [152, 11]),  # € at septets 153-154 moves on
    ("a" * 151 + "€" + "b" * 10, "gsm7", 2, 163, [152, 10]),  # € at 152-153 stays in part 1
    ("a" * 152 + "€€" + "b" * 10, "gsm7", 2, 166, [152, 12]),
    ("€" * 80, "gsm7", 1, 160, [80]),  # only extension characters
    ("€" * 81, "gsm7", 2, 162, [76, 5]),  # 76 x 2 = 152 septets: the 77th would split
    ("{}[]~^|\\€", "gsm7", 1, 18, [9]),  # the whole extension table
    ("\x0c", "gsm7", 1, 2, [1]),  # form feed is an extension character
    ("a\nb", "gsm7", 1, 3, [3]),  # \n is basic: one septet
    ("a\r\nb", "gsm7", 1, 4, [4]),
    ("Ç", "gsm7", 1, 1, [1]),  # capital Ç is in the basic table …
    ("ç", "ucs2", 1, 1, [1]),  # … small ç is not
    ("@£$¥èéùìòØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡¿ÄÖÑÜ§äöñüà", "gsm7", 1, 41, [41]),
    ("It’s", "ucs2", 1, 4, [4]),  # typographic apostrophe
    ("a\u00a0b", "ucs2", 1, 3, [3]),  # no-break space
    ("a\tb", "ucs2", 1, 3, [3]),  # tab
    ("\x1b", "ucs2", 1, 1, [1]),  # a literal ESC cannot be sent as GSM-7
    ("`", "ucs2", 1, 1, [1]),  # backtick is not in GSM 03.38
    ("п" * 70, "ucs2", 1, 70, [70]),
    ("п" * 71, "ucs2", 2, 71, [67, 4]),
    ("п" * 134, "ucs2", 2, 134, [67, 67]),
    ("п" * 135, "ucs2", 3, 135, [67, 67, 1]),
    ("Ваш заказ ўжо ў дарозе", "ucs2", 1, 22, [22]),  # Belarusian ў
    ("Қазақстан", "ucs2", 1, 9, [9]),  # Kazakh Қ
    ("a" * 159 + "ж", "ucs2", 3, 160, [67, 67, 26]),  # one Cyrillic letter: all UCS-2
    (SMILE * 35, "ucs2", 1, 70, [35]),
    (SMILE * 36, "ucs2", 2, 72, [33, 3]),  # 33 x 2 = 66 units: the 34th pair would split
    ("a" * 66 + SMILE + "b" * 5, "ucs2", 2, 73, [66, 6]),  # emoji at units 67-68 moves on
    ("a" * 65 + SMILE + "b" * 5, "ucs2", 2, 72, [66, 5]),  # emoji at units 66-67 stays
    (FAMILY, "ucs2", 1, 8, [5]),
    ("a" * 62 + FAMILY + "b", "ucs2", 2, 71, [65, 3]),  # cut at a ZWJ, never inside a pair
    ("a" * 69 + "ў", "ucs2", 1, 70, [70]),
]


@pytest.mark.parametrize(("text", "encoding", "segments", "units", "lengths"), CASES)
def test_count_segments(
    text: str, encoding: str, segments: int, units: int, lengths: list[int]
) -> None:
    info = count_segments(text)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)
    assert info.characters == len(text)
    assert [len(part) for part in info.parts] == lengths
    assert "".join(info.parts) == text
    assert split_parts(text) == list(info.parts)


@pytest.mark.parametrize(("text", "encoding", "segments", "units", "lengths"), CASES)
def test_parts_respect_the_limits(
    text: str, encoding: str, segments: int, units: int, lengths: list[int]
) -> None:
    parts = split_parts(text)
    limit = (153 if encoding == "gsm7" else 67) if segments > 1 else None
    for part in parts:
        part_units = count_segments(part).units if encoding == "gsm7" else _utf16(part)
        if limit is not None:
            assert part_units <= limit
        # a part never ends in the first half of a surrogate pair (Python str has none)
        assert not part or not 0xD800 <= ord(part[-1]) <= 0xDBFF
        assert part.encode("utf-16-le")  # every part is valid on its own


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_extension_part_boundary_exactly() -> None:
    text = "a" * 152 + "€" + "b" * 10
    first, second = split_parts(text)
    assert first == "a" * 152
    assert second == "€" + "b" * 10


def test_emoji_boundary_exactly() -> None:
    first, second = split_parts("a" * 66 + SMILE + "b" * 5)
    assert first == "a" * 66
    assert second == SMILE + "b" * 5
    assert _utf16(first) == 66


def test_tables_are_the_full_gsm_0338_alphabet() -> None:
    assert len(GSM7_BASIC) == 128
    assert GSM7_EXTENSION == frozenset("\x0c^{}\\[~]|€")
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)
    assert set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") <= GSM7_BASIC
    assert detect_encoding("Hello {name}!") == "gsm7"
    assert detect_encoding("Привет") == "ucs2"


def test_forced_encoding() -> None:
    info = count_segments("a" * 71, encoding="ucs2")
    assert (info.encoding, info.segments, info.units) == ("ucs2", 2, 71)
    assert split_parts("a" * 71, "ucs2") == ["a" * 67, "a" * 4]
    with pytest.raises(ValueError, match="text has characters outside GSM 03.38"):
        split_parts("Привет", "gsm7")
    with pytest.raises(ValueError, match="encoding must be one of"):
        count_segments("x", "utf8")


def test_segment_info_checks_itself() -> None:
    assert count_segments("ab") == SegmentInfo("gsm7", 1, 2, 2, ("ab",))
    with pytest.raises(ValueError, match="segments must equal the number of parts, got 2"):
        SegmentInfo("gsm7", 2, 2, 2, ("ab",))
    with pytest.raises(ValueError, match="encoding must be one of"):
        SegmentInfo("ascii", 1, 2, 2, ("ab",))


def test_fits() -> None:
    assert MAX_PARTS == 10
    assert fits("a" * 1530) is True
    assert fits("a" * 1531) is False
    assert fits("п" * 70, 1) is True
    assert fits("п" * 71, 1) is False
    assert fits("", 1) is True
    with pytest.raises(ValueError, match="max_parts must be a positive int, got 0"):
        fits("a", 0)
