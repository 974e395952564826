"""Write-back events and the Writeback protocol."""

from __future__ import annotations

import pytest

from shared.writeback import MESSAGE_STATUSES, Writeback, WritebackEvent


class TimelineWriteback:
    platform = "bitrix24"

    def __init__(self) -> None:
        self.seen: list[WritebackEvent] = []

    def handle(self, event: WritebackEvent) -> None:
        self.seen.append(event)


def test_a_connector_class_satisfies_the_protocol() -> None:
    writer = TimelineWriteback()
    assert isinstance(writer, Writeback)
    event = WritebackEvent("status_changed", "t-1", "m-1", "+375291234567", status="delivered")
    writer.handle(event)
    assert writer.seen == [event]


def test_object_without_platform_is_not_a_writeback() -> None:
    class NoPlatform:
        def handle(self, event: WritebackEvent) -> None:
            pass

    assert not isinstance(NoPlatform(), Writeback)


def test_valid_events_of_each_kind() -> None:
    status = WritebackEvent(
        "status_changed",
        "t-1",
        "m-1",
        "+375291234567",
        status="blocked",
        reason="no_consent",
        context={"source": {"platform": "bitrix24", "account": "a"}, "data": {"deal_id": 5}},
    )
    assert status.context["data"] == {"deal_id": 5}
    assert WritebackEvent("reply_received", "t-1", None, "+79161234567", text="").text == ""
    survey = WritebackEvent("survey_answered", "t-1", "m-2", "+77011234567", score=0, text="0")
    assert survey.score == 0
    assert "delivered" in MESSAGE_STATUSES and len(MESSAGE_STATUSES) == 12


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("clicked", "t", "m", "+1"), {}, "kind must be one of"),
        (("status_changed", "t", "m", "+1"), {}, "status_changed needs message_id and status"),
        (("status_changed", "t", None, "+1"), {"status": "sent"}, "needs message_id and status"),
        (("status_changed", "t", "m", "+1"), {"status": "ok"}, "status must be one of"),
        (("status_changed", "t", "m", "375291234567"), {"status": "sent"}, "phone must be E.164"),
        (("reply_received", "t", "m", "+1"), {}, "reply_received needs text, got None"),
        (("survey_answered", "t", "m", "+1"), {"score": 11}, "needs a score 0-10, got 11"),
        (("survey_answered", "t", "m", "+1"), {"score": True}, "score must be an int, got True"),
        (("survey_answered", "t", "m", "+1"), {"score": "9"}, "score must be an int, got '9'"),
        (("reply_received", "", "m", "+1"), {"text": "x"}, "tenant_id must not be blank"),
    ],
)
def test_writeback_event_validates_itself(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        WritebackEvent(*args, **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_memory_claim_store_gives_one_owner_until_released_or_expired():
    from shared.writeback import ClaimStore, MemoryClaimStore

    now = [100.0]
    claims = MemoryClaimStore(clock=lambda: now[0])
    assert isinstance(claims, ClaimStore)
    assert claims.claim("k") and not claims.claim("k")
    claims.release("k")
    assert claims.claim("k")
    now[0] += 301
    assert claims.claim("k", lease_seconds=300)  # the first owner died: taken over
    claims.complete("k")
    now[0] += 10_000
    assert not claims.claim("k", lease_seconds=1)  # done is done
