"""What Kannel 1.4.5 and its fake SMSC really do: the facts the adapter and the harness rely
on, checked against the binaries (FIELD-NOTES' "Kannel 1.4.5" section, and where it is short)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.kannel import ADMIN_PASSWORD, KannelHarness, SendsmsStandIn, require_kannel

pytestmark = pytest.mark.kannel
MO_TO = "79001234567"


@pytest.fixture(scope="module")
def relay_standin() -> Iterator[SendsmsStandIn]:
    """Records Kannel's calls (get-url and dlr-url) and answers them 200 with an empty body."""
    with SendsmsStandIn() as server:
        server.answers.update({"": (200, ""), MO_TO: (200, "")})
        yield server


@pytest.fixture(scope="module")
def kannel(tmp_path_factory, relay_standin) -> Iterator[KannelHarness]:  # type: ignore[no-untyped-def]
    require_kannel()
    harness = KannelHarness(tmp_path_factory.mktemp("kannel"))
    harness.start(f"{relay_standin.admin_url}/inbound")
    yield harness
    harness.stop()


def sendsms(kannel: KannelHarness, **params: str) -> tuple[int, str]:
    query = {
        "username": "relay",
        "password": "kannel-test-pass",
        "from": "SHOP",
        "to": "+79161234567",
        **params,
    }
    resp = requests.get(kannel.sendsms_url, params=query, timeout=5)
    return resp.status_code, resp.text


def calls(standin: SendsmsStandIn, path: str, count: int, timeout: float = 5) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [r["args"] for r in standin.requests if r["path"] == path]
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{path}: {len(got)} of {count} calls in {timeout} s")


def test_the_report_comes_on_its_own_8_and_1(kannel, relay_standin):
    dlr = f"{relay_standin.admin_url}/dlr?id=m1&status=%d&answer=%A"
    assert sendsms(kannel, text="hello", **{"dlr-mask": "31", "dlr-url": dlr}) == (
        202,
        "0: Accepted for delivery",
    )
    line = kannel.read_line()
    assert (line.sender, line.receiver, line.type, line.text()) == (
        "SHOP",
        "+79161234567",
        "text",
        "hello",
    )
    reports = calls(relay_standin, "/dlr", 2)
    assert sorted((r["id"], r["status"]) for r in reports) == [("m1", "1"), ("m1", "8")]
    kannel.assert_no_line(0.3)


def test_ucs2_text_with_spaces_arrives_as_url_encoded_utf16(kannel):
    text = "Заказ №727 + 100% готов"
    assert sendsms(kannel, text=text, coding="2", charset="UTF-8")[0] == 202
    line = kannel.read_line()
    assert line.type == "ucs-2" and b"%00+" in line.raw  # a 0x20 byte is written `+`
    assert line.text() == text


def test_held_smsc_queues_then_delivers_on_release(kannel):
    kannel.hold()
    try:
        assert sendsms(kannel, text="held") == (202, "3: Queued for later delivery")
        kannel.assert_no_line(0.5)
    finally:
        kannel.release()
    assert kannel.read_line().text() == "held"


def test_mo_must_be_a_text_line_in_utf8(kannel, relay_standin):
    before = len([r for r in relay_standin.requests if r["path"] == "/inbound"])
    kannel.send_mo("+375291234567", MO_TO, "СТОП")
    kannel._sock.sendall(f"+375291234567 {MO_TO} ucs-2 %04%21\n".encode())  # type: ignore[union-attr]
    [mo] = calls(relay_standin, "/inbound", before + 1)[before:]
    assert (mo["from"], mo["to"], mo["text"], mo["coding"], mo["charset"]) == (
        "+375291234567",
        MO_TO,
        "СТОП",
        "0",
        "UTF-8",
    )
    assert mo["id"]  # %I, Kannel's own id of the MO
    time.sleep(0.5)
    assert len([r for r in relay_standin.requests if r["path"] == "/inbound"]) == before + 1
    assert "invalid message syntax" in (kannel.workdir / "bearerbox.log").read_text()
    kannel.assert_no_line(0.3)  # the empty answer sent nothing back


def test_sendsms_user_default_max_messages_cuts_long_text_silently(tmp_path):
    require_kannel()
    with KannelHarness(tmp_path / "k", sendsms_max_messages=None) as short:
        short.start("http://127.0.0.1:9/inbound")
        status, answer = sendsms(short, text="a" * 200)
        assert (status, answer) == (202, "0: Accepted for delivery")  # no word of the cut
        line = short.read_line()
        assert (line.type, line.text()) == ("text", "a" * 160)
        status_xml = requests.get(
            f"{short.admin_url}/status.xml", params={"password": ADMIN_PASSWORD}, timeout=5
        ).text
        assert "<status>online" in status_xml


def test_stop_leaves_no_box_running(tmp_path):
    require_kannel()
    harness = KannelHarness(Path(tmp_path) / "k")
    harness.start("http://127.0.0.1:9/inbound")
    pids = harness.pids
    assert len(pids) == 2
    harness.stop()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
