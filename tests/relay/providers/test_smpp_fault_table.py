"""The SMPP adapter's fault table, against the local SMSC (tests/support/smsc_server.py): what
the SMSC or the link does to a submit, and what the adapter makes of it (docs/security.md,
"Duplicate sends").

| fault                                          | kind       | the message                     |
| connection refused (nothing listens)           | transient  | retried: nothing was sent       |
| bind refused (ESME_RBINDFAIL)                  | transient  | retried: nothing was sent       |
| no submit_sm_resp in time after the submit     | ambiguous  | `unknown`, never resent blindly |
| connection dropped after the submit was read   | ambiguous  | `unknown`, never resent blindly |
| ESME_RTHROTTLED                                | throttled  | waits and is retried, never failed |
| ESME_RSYSERR (the SMSC's temporary refusal)    | transient  | retried (the SMSC did not take) |
| ESME_RINVDSTADR (the SMSC's permanent refusal) | permanent  | failed                          |
| a later part refused after the first was taken | ambiguous  | `unknown`: a resend repeats it  |

Each row prints its counts (run with -s): in (messages), sent (messages the SMSC took),
duplicated (taken more than once), and the error kind.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from relay.providers.base import (
    AMBIGUOUS,
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    ProviderError,
)
from relay.providers.smpp import SmppProvider
from tests.support.smsc_server import DROPPED, HUNG, FakeSmsc

ESME_RSYSERR, ESME_RINVDSTADR, ESME_RBINDFAIL = 0x08, 0x0B, 0x0D
MSG = OutboundMessage(message_id="m-1", phone="+79161234567", text="Order 727 is ready")
LONG = OutboundMessage(message_id="m-2", phone="+79161234568", text="Заказ №727 готов. " * 5)


@pytest.fixture()
def smsc() -> Iterator[FakeSmsc]:
    with FakeSmsc(system_id="relay", password="secret", timeout=3.0) as server:
        yield server


@pytest.fixture()
def make_provider(smsc: FakeSmsc) -> Iterator[Callable[..., SmppProvider]]:
    made: list[SmppProvider] = []

    def make(**config: Any) -> SmppProvider:
        base = {"host": "127.0.0.1", "port": smsc.port, "system_id": "relay"}
        cfg = {**base, "password": "secret", "source_addr": "SHOP", "timeout": 0.5, **config}
        made.append(SmppProvider("smpp-faults", cfg))
        return made[-1]

    yield make
    for provider in made:
        provider.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("smpp-") and t.is_alive()]


def _send(provider: SmppProvider, msg: OutboundMessage = MSG) -> ProviderError | None:
    try:
        provider.send(msg)
    except ProviderError as err:
        return err
    return None


def _counts(row: str, smsc: FakeSmsc, err: ProviderError | None) -> dict[str, Any]:
    """in / sent at the SMSC / duplicated / kind for one message, as docs/security.md lists."""
    taken = Counter(s.destination_addr for s in smsc.taken if s.first_part)
    out = {
        "in": 1,
        "sent": len(taken),
        "duplicated": sum(n - 1 for n in taken.values()),
        "kind": err.kind if err else "sent",
    }
    print(f"\n[fault table] smpp {row}: {out}")
    return out


def test_smpp_fault_table_nothing_sent_is_transient(smsc, make_provider):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        refused = probe.getsockname()[1]
    err = _send(make_provider(port=refused))
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "connection")
    smsc.refuse_binds(1, ESME_RBINDFAIL)  # e.g. "too many binds": nothing is submitted
    provider = make_provider()
    err = _send(provider)
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "bind_failed")
    assert (smsc.bind_failures, smsc.submits) == (1, [])
    assert _counts("bind refused", smsc, err) == {
        "in": 1, "sent": 0, "duplicated": 0, "kind": TRANSIENT
    }  # fmt: skip
    assert _send(provider) is None  # the retry the transient kind allows: sent once
    assert _counts("bind refused, then retried", smsc, None)["sent"] == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [(HUNG, "no_answer"), (DROPPED, "no_answer")],
)
def test_smpp_fault_table_written_submit_without_answer_is_ambiguous(
    smsc, make_provider, fault, code
):
    provider = make_provider()
    (smsc.hang_next if fault == HUNG else smsc.drop_after_next)(1)
    err = _send(provider)
    assert err is not None and (err.kind, err.code) == (AMBIGUOUS, code), err
    # the SMSC took it and the adapter did not write it again
    assert [(s.fate, s.taken) for s in smsc.submits] == [(fault, True)]
    assert _counts(fault, smsc, err) == {
        "in": 1, "sent": 1, "duplicated": 0, "kind": AMBIGUOUS
    }  # fmt: skip
    # the link recovers for the next message (a re-bind after a drop)
    assert _send(provider, LONG) is None
    assert len(smsc.taken) == 1 + 2


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (0x58, THROTTLED, "throttled"),  # ESME_RTHROTTLED
        (ESME_RSYSERR, TRANSIENT, "system_error"),
        (ESME_RINVDSTADR, PERMANENT, "invalid_destination"),
    ],
)
def test_smpp_fault_table_refusals(smsc, make_provider, status, kind, code):
    smsc.answer_next(status)
    err = _send(make_provider())
    assert err is not None and (err.kind, err.code) == (kind, code), err
    assert [(s.status, s.taken) for s in smsc.submits] == [(status, False)]
    assert _counts(code, smsc, err) == {"in": 1, "sent": 0, "duplicated": 0, "kind": kind}


@pytest.mark.parametrize("fault", ["refused", "throttled", HUNG, DROPPED])
def test_smpp_fault_table_later_part_after_the_first_was_taken(smsc, make_provider, fault):
    """A two-part message whose second part fails: the first part is with the SMSC, so the
    message must not be sent again (that would repeat the part), whatever the fault."""
    if fault == "refused":
        smsc.answer_next(ESME_RSYSERR, after=1)
    elif fault == "throttled":  # more throttles than the adapter waits out for a later part
        smsc.throttle_next(10, after=1)
    else:
        (smsc.hang_next if fault == HUNG else smsc.drop_after_next)(1, after=1)
    err = _send(make_provider(), LONG)
    assert err is not None and err.kind == AMBIGUOUS, err
    assert err.code == ("no_answer" if fault in (HUNG, DROPPED) else "partly_sent")
    assert [s.taken for s in smsc.submits if s.first_part] == [True]  # out once, not again
    assert _counts(f"later part {fault}", smsc, err) == {
        "in": 1, "sent": 1, "duplicated": 0, "kind": AMBIGUOUS
    }  # fmt: skip
