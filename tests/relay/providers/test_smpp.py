"""The SMPP adapter: pure part building and receipt parsing, then against a real local SMSC."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from relay.providers import provider_class
from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    Inbound,
    OutboundMessage,
    ProviderConfigError,
    ProviderError,
    Receipt,
)
from relay.providers.smpp import SmppProvider
from relay.providers.smpp_pdu import (
    GSM7_EXTENSION,
    GSM7_TABLE,
    Concat,
    ConcatBuffer,
    SubmitPart,
    build_receipt,
    build_submit_parts,
    classify_status,
    gsm7_decode,
    gsm7_encode,
    parse_receipt_text,
    sender_ton_npi,
    split_udh,
)
from shared import segments
from tests.support.smsc_server import FakeSmsc

CYR = "я"
EMOJI = "\U0001f600"  # a surrogate pair in UTF-16


def payload(part: SubmitPart | Any) -> bytes:
    """short_message without its concatenation UDH."""
    return part.short_message[6:] if part.esm_class & 0x40 else part.short_message


def decode(part: SubmitPart | Any) -> str:
    """A part's text, strictly decoded (a lone surrogate or a cut escape would fail)."""
    body = payload(part)
    if part.data_coding == 8:
        return body.decode("utf-16-be")  # strict
    assert not body.endswith(b"\x1b"), "an escape was cut from its extension character"
    return gsm7_decode(body)


def units(part: SubmitPart | Any) -> int:
    """Septets (GSM-7, one per octet) or UTF-16 units (UCS-2) in a part's payload."""
    return len(payload(part)) // (2 if part.data_coding == 8 else 1)


# --- GSM 03.38 codec ------------------------------------------------------------------------


def test_gsm7_tables_match_the_shared_segment_counter() -> None:
    assert len(GSM7_TABLE) == 128 and set(GSM7_TABLE) == segments.GSM7_BASIC
    assert set(GSM7_EXTENSION) == segments.GSM7_EXTENSION


@pytest.mark.parametrize(
    "text, encoded",
    [
        ("@", b"\x00"),
        ("§", b"\x5f"),
        ("¿", b"\x60"),
        ("¡", b"\x40"),
        ("_", b"\x11"),
        ("Hi!", b"Hi!"),
        ("€", b"\x1b\x65"),
        ("{x}", b"\x1b\x28x\x1b\x29"),
        ("\x0c", b"\x1b\x0a"),
        ("Ü", b"\x5e"),
    ],
)
def test_gsm7_encode_and_decode(text: str, encoded: bytes) -> None:
    assert gsm7_encode(text) == encoded
    assert gsm7_decode(encoded) == text


@pytest.mark.parametrize("char", ["`", "я", "\x1b", "’", "ç"])
def test_gsm7_encode_rejects_characters_outside_the_alphabet(char: str) -> None:
    with pytest.raises(ValueError):
        gsm7_encode(char)


# --- build_submit_parts -----------------------------------------------------------------------

PART_CASES = [
    # id, text, data_coding, units per part
    ("gsm-160", "a" * 160, 0, [160]),
    ("gsm-161", "a" * 161, 0, [153, 8]),
    ("gsm-euro-at-153", "a" * 152 + "€" + "b" * 10, 0, [152, 12]),
    ("gsm-brace-at-153", "a" * 152 + "{" + "b" * 7, 0, [152, 9]),
    ("gsm-ext-fills-160", "€" * 80, 0, [160]),
    ("ucs2-70", CYR * 70, 8, [70]),
    ("ucs2-71", CYR * 71, 8, [67, 4]),
    ("ucs2-emoji-at-67", CYR * 66 + EMOJI + CYR * 3, 8, [66, 5]),
    ("ucs2-3-parts", CYR * 135, 8, [67, 67, 1]),
]


@pytest.mark.parametrize(
    "text, coding, part_units", [c[1:] for c in PART_CASES], ids=[c[0] for c in PART_CASES]
)
def test_build_submit_parts(text: str, coding: int, part_units: list[int]) -> None:
    parts = build_submit_parts(text, ref=0x7E)
    assert [p.data_coding for p in parts] == [coding] * len(parts)
    assert [units(p) for p in parts] == part_units
    if len(parts) == 1:
        assert parts[0].esm_class == 0  # no UDH on a single SMS
    else:
        total = len(parts)
        assert [p.esm_class for p in parts] == [0x40] * total
        assert [p.short_message[:6] for p in parts] == [
            bytes((5, 0, 3, 0x7E, total, seq)) for seq in range(1, total + 1)
        ]
    assert "".join(decode(p) for p in parts) == text
    assert all(len(p.short_message) <= (140 if coding == 8 else 160) for p in parts)


def test_extension_char_at_the_boundary_moves_whole_to_part_two() -> None:
    first, second = build_submit_parts("a" * 152 + "€" + "tail" * 3, ref=1)
    assert payload(first) == b"a" * 152
    assert payload(second).startswith(b"\x1b\x65")


def test_emoji_at_the_boundary_moves_whole_to_part_two() -> None:
    first, second = build_submit_parts(CYR * 66 + EMOJI + "!" * 5, ref=1)
    assert decode(first) == CYR * 66
    assert decode(second) == EMOJI + "!" * 5
    assert payload(second)[:2] == b"\xd8\x3d"  # the high surrogate starts part 2


def test_build_submit_parts_forces_ucs2_and_refuses_bad_input() -> None:
    [part] = build_submit_parts("hello", ref=0, encoding="ucs2")
    assert part.data_coding == 8 and decode(part) == "hello"
    for text, ref in (("", 0), ("x", 256), ("x", -1)):
        with pytest.raises(ValueError):
            build_submit_parts(text, ref)


# --- receipts, UDH, status tables ---------------------------------------------------------------

STANDARD = (
    "id:0A1B2C sub:001 dlvrd:001 submit date:2601151200 done date:2601151201 "
    "stat:DELIVRD err:000 text:Your id:42 is here"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            STANDARD,
            {
                "id": "0A1B2C",
                "sub": "001",
                "dlvrd": "001",
                "submit date": "2601151200",
                "done date": "2601151201",
                "stat": "DELIVRD",
                "err": "000",
                "text": "Your id:42 is here",
            },
        ),
        ("id:77 stat:UNDELIV err:011", {"id": "77", "stat": "UNDELIV", "err": "011"}),
        ("ID:5 Stat:EXPIRED Text:", {"id": "5", "stat": "EXPIRED", "text": ""}),
        ("no receipt here", {}),
    ],
)
def test_parse_receipt_text(text: str, expected: dict[str, str]) -> None:
    assert parse_receipt_text(text) == expected


@pytest.mark.parametrize(
    "stat, status, error",
    [
        ("DELIVRD", "delivered", None),
        ("UNDELIV", "undelivered", "UNDELIV err:011"),
        ("EXPIRED", "expired", "EXPIRED err:011"),
        ("REJECTD", "failed", "REJECTD err:011"),
        ("DELETED", "failed", "DELETED err:011"),
        ("ACCEPTD", "sent", None),
        ("UNKNOWN", None, None),
        ("ENROUTE", None, None),
    ],
)
def test_build_receipt_maps_stat(stat: str, status: str | None, error: str | None) -> None:
    err = "000" if stat == "DELIVRD" else "011"
    receipt = build_receipt(f"id:9 sub:001 dlvrd:000 stat:{stat} err:{err} text:x")
    if status is None:
        assert receipt is None
    else:
        assert receipt == Receipt(status=status, provider_message_id="9", error_code=error)


def test_build_receipt_prefers_the_tlvs() -> None:
    receipt = build_receipt(
        "id:123 stat:DELIVRD err:000", receipted_message_id="7B", message_state=5
    )
    assert receipt is not None
    assert (receipt.provider_message_id, receipt.status) == ("7B", "undelivered")


@pytest.mark.parametrize(
    "status, kind, code",
    [
        (0x58, THROTTLED, "throttled"),
        (0x14, TRANSIENT, "queue_full"),
        (0x08, TRANSIENT, "system_error"),
        (0x0B, PERMANENT, "invalid_destination"),
        (0x0A, PERMANENT, "invalid_source"),
        (0x01, PERMANENT, "invalid_message_length"),
        (0x45, PERMANENT, "submit_failed"),
        (0x0E, PERMANENT, "auth_failed"),
        (0x0F, PERMANENT, "auth_failed"),
        (0x0401, TRANSIENT, "smsc_error_0x401"),
    ],
)
def test_classify_status(status: int, kind: str, code: str) -> None:
    assert classify_status(status) == (kind, code)


@pytest.mark.parametrize(
    "sender, ton_npi",
    [
        ("SHOP", (5, 0)),
        ("Shop 24", (5, 0)),
        ("79161234567", (1, 1)),
        ("+79161234567", (1, 1)),
    ],
)
def test_sender_ton_npi(sender: str, ton_npi: tuple[int, int]) -> None:
    assert sender_ton_npi(sender) == ton_npi


def test_split_udh_reads_8_and_16_bit_references() -> None:
    assert split_udh(0x40, b"\x05\x00\x03\x11\x02\x01ab") == (Concat(0x11, 2, 1), b"ab")
    assert split_udh(0x40, b"\x06\x08\x04\x01\x02\x03\x02ab") == (Concat(0x102, 3, 2), b"ab")
    assert split_udh(0x00, b"\x05\x00\x03\x11\x02\x01ab") == (None, b"\x05\x00\x03\x11\x02\x01ab")


def test_concat_buffer_joins_in_order_and_expires() -> None:
    now = [0.0]
    buffer = ConcatBuffer(ttl=10, clock=lambda: now[0])
    assert buffer.add("k", Concat(1, 2, 2), b"b") is None
    assert buffer.add("k", Concat(1, 2, 1), b"a") == b"ab"
    buffer.discard("k")
    assert buffer.add("old", Concat(2, 2, 1), b"x") is None
    now[0] = 11.0
    assert buffer.add("old", Concat(2, 2, 2), b"y") is None  # its first half expired


# --- configuration --------------------------------------------------------------------------

BASE = {"host": "127.0.0.1", "port": 2775, "system_id": "relay", "password": "secret"}


def test_config_defaults_alias_and_secrets() -> None:
    assert provider_class("smpp") is SmppProvider
    provider = SmppProvider("p", {**BASE, "sender": "SHOP"})
    assert provider.config["source_addr"] == "SHOP"
    assert (provider.config["max_parts"], provider.config["enquire_link_interval"]) == (10, 30.0)
    assert "password" in provider.secret_fields()
    # the stored (validated) config validates again unchanged when the router rebuilds it
    assert SmppProvider.validate_config(dict(provider.config)) == provider.config


@pytest.mark.parametrize(
    "change",
    [
        {"host": None},
        {"port": "2775"},
        {"password": "much-too-long"},
        {"max_parts": 0},
        {"enquire_link_interval": 0},
        {"colour": "blue"},
        {"throughput": True},
    ],
)
def test_config_errors(change: dict[str, Any]) -> None:
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ProviderConfigError):
        SmppProvider("p", config)


# --- against the local SMSC ----------------------------------------------------------------


@pytest.fixture()
def smsc() -> Iterator[FakeSmsc]:
    with FakeSmsc(system_id="relay", password="secret", timeout=3.0) as server:
        yield server


@pytest.fixture()
def make_provider(smsc: FakeSmsc) -> Iterator[Callable[..., SmppProvider]]:
    made: list[SmppProvider] = []

    def make(context: dict[str, Any] | None = None, **config: Any) -> SmppProvider:
        cfg = {**BASE, "port": smsc.port, "source_addr": "SHOP", "timeout": 2.0, **config}
        made.append(SmppProvider("smpp-test", cfg, context=context))
        return made[-1]

    yield make
    for provider in made:
        provider.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("smpp-") and t.is_alive()]


def out(text: str, sender: str | None = None) -> OutboundMessage:
    return OutboundMessage(message_id="m-1", phone="+79161234567", text=text, sender=sender)


def test_check_binds_and_unbinds(smsc: FakeSmsc, make_provider: Callable[..., SmppProvider]):
    assert make_provider().check() == {"ok": True, "system_id": "FAKESMSC"}
    assert (smsc.binds, smsc.unbinds) == (1, 1)
    assert smsc.wait_for(lambda: smsc.bound_clients == 0)


@pytest.mark.parametrize("field", ["password", "system_id"])
def test_check_with_wrong_credentials_is_permanent_auth_failed(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
    field: str,
) -> None:
    with pytest.raises(ProviderError) as err:
        make_provider(**{field: "wrong"}).check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")
    assert (smsc.binds, smsc.bind_failures) == (0, 1)


def test_cyrillic_two_parts_arrive_as_two_udh_submits(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    text = "Ваш заказ №727 принят. " * 4  # 92 characters: UCS-2, 2 parts
    result = make_provider().send(out(text))
    first, second = smsc.submits
    assert [s.data_coding for s in (first, second)] == [8, 8]
    assert [s.esm_class for s in (first, second)] == [0x40, 0x40]
    ref = first.short_message[3]
    assert first.short_message[:6] == bytes((5, 0, 3, ref, 2, 1))
    assert second.short_message[:6] == bytes((5, 0, 3, ref, 2, 2))
    assert b"".join(s.short_message[6:] for s in (first, second)).decode("utf-16-be") == text
    assert result.provider_message_id == first.message_id
    assert result.raw["message_ids"] == [first.message_id, second.message_id]


def test_single_gsm_part_fields(smsc: FakeSmsc, make_provider: Callable[..., SmppProvider]):
    provider = make_provider()
    provider.send(out("Order {727} shipped: 10€"))
    provider.send(out("Hi", sender="+79001112233"))
    alpha, numeric = smsc.submits
    assert (alpha.source_addr, alpha.source_addr_ton, alpha.source_addr_npi) == ("SHOP", 5, 0)
    assert (numeric.source_addr, numeric.source_addr_ton, numeric.source_addr_npi) == (
        "79001112233",
        1,
        1,
    )
    assert (alpha.destination_addr, alpha.dest_addr_ton, alpha.dest_addr_npi) == (
        "79161234567",
        1,
        1,
    )
    assert (alpha.esm_class, alpha.data_coding, alpha.registered_delivery) == (0, 0, 1)
    assert gsm7_decode(alpha.short_message) == "Order {727} shipped: 10€"


def test_too_many_parts_is_refused_before_connecting(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    with pytest.raises(ProviderError) as err:
        make_provider(max_parts=2).send(out("a" * 307))  # 3 parts
    assert (err.value.kind, err.value.code) == (PERMANENT, "too_many_parts")
    assert smsc.binds == 0 and smsc.submits == []


def test_throttled_submit_is_a_throttled_error(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    provider = make_provider()
    smsc.throttle_next(1)
    with pytest.raises(ProviderError) as err:
        provider.send(out("hello"))
    assert (err.value.kind, err.value.code) == (THROTTLED, "throttled")
    assert provider.send(out("hello")).provider_message_id is not None


def test_throttled_later_part_is_retried_not_orphaned(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    smsc.throttle_next(1, after=1)
    result = make_provider().send(out(CYR * 71))
    assert [s.status for s in smsc.submits] == [0, 0x58, 0]
    assert len(result.raw["message_ids"]) == 2


def test_enquire_link_is_sent_after_the_idle_interval(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    provider = make_provider(enquire_link_interval=0.3)
    started = time.monotonic()
    provider.start()
    assert smsc.enquire_links == 0
    assert smsc.wait_for(lambda: smsc.enquire_links >= 1, timeout=3)
    assert time.monotonic() - started >= 0.25
    assert smsc.wait_for(lambda: smsc.enquire_links >= 2, timeout=3)


def test_receipt_reaches_on_receipts(smsc: FakeSmsc, make_provider: Callable[..., SmppProvider]):
    got: list[Receipt] = []
    provider = make_provider(context={"on_receipts": got.extend})
    result = provider.send(out("hello"))
    seq = smsc.push_receipt(result.provider_message_id or "")
    assert smsc.wait_for(lambda: (seq, 0) in smsc.deliver_resps)
    assert got == [Receipt(status="delivered", provider_message_id=result.provider_message_id)]
    smsc.push_receipt("FFFF", stat="UNDELIV", err="011", with_tlvs=True)
    assert smsc.wait_for(lambda: len(got) == 2)
    assert (got[1].provider_message_id, got[1].status) == ("FFFF", "undelivered")


def test_failing_hook_asks_the_smsc_to_redeliver(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    def broken(items: list[Receipt]) -> None:
        raise RuntimeError("database is down")

    make_provider(context={"on_receipts": broken}).start()
    seq = smsc.push_receipt("0001")
    assert smsc.wait_for(lambda: (seq, 0x64) in smsc.deliver_resps)  # ESME_RX_T_APPN


def test_mo_reaches_on_inbound(smsc: FakeSmsc, make_provider: Callable[..., SmppProvider]):
    got: list[Inbound] = []
    make_provider(context={"on_inbound": got.extend}).start()
    smsc.push_mo("79161234567", "900", "СТОП")
    assert smsc.wait_for(lambda: len(got) == 1)
    assert (got[0].sender, got[0].recipient, got[0].text) == ("+79161234567", "900", "СТОП")
    # three parts cut blindly every 67 octets: the cuts fall inside UTF-16 units
    long_text = "Спасибо, всё пришло вовремя! " * 3
    seqs = smsc.push_mo("79161234567", "900", long_text + EMOJI, chunk=67)
    assert len(seqs) == 3
    assert smsc.wait_for(lambda: len(got) == 2)
    assert got[1].text == long_text + EMOJI and got[1].raw["parts"] == 3
    assert smsc.wait_for(lambda: all((s, 0) in smsc.deliver_resps for s in seqs))


def test_rebinds_after_the_server_drops_the_connection(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    provider = make_provider(enquire_link_interval=0.3)
    provider.send(out("before"))
    assert smsc.binds == 1
    smsc.drop_connections()
    assert smsc.wait_for(lambda: smsc.binds == 2 and smsc.bound_clients == 1, timeout=5)
    provider.send(out("after"))
    assert [gsm7_decode(s.short_message) for s in smsc.submits] == ["before", "after"]


def test_smsc_requests_are_answered_and_an_smsc_unbind_rebinds(
    smsc: FakeSmsc,
    make_provider: Callable[..., SmppProvider],
) -> None:
    make_provider(enquire_link_interval=0.3).start()
    ping = smsc.push("enquire_link")
    odd = smsc.push("query_sm", message_id="1", source_addr="SHOP")  # not for an ESME
    assert smsc.wait_for(
        lambda: {("enquire_link_resp", ping, 0), ("generic_nack", odd, 3)} <= set(smsc.responses)
    )
    bye = smsc.push("unbind")
    assert smsc.wait_for(lambda: ("unbind_resp", bye, 0) in smsc.responses)
    assert smsc.wait_for(lambda: smsc.binds == 2 and smsc.bound_clients == 1, timeout=5)


def test_unreachable_smsc_is_transient(make_provider: Callable[..., SmppProvider]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError) as err:
        make_provider(port=port).send(out("hello"))
    assert (err.value.kind, err.value.code) == (TRANSIENT, "connection")
