"""The REST client: 7 requests/s per account, backoff on 429, clear errors."""

from __future__ import annotations

import threading

import pytest

from connectors.amocrm.client import AmoClient
from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import AmoApiError
from connectors.amocrm.ratelimit import TokenBucket
from connectors.amocrm.tokens import StaticTokens
from tests.connectors.amocrm.helpers import CLIENT_ID, CLIENT_SECRET, DOMAIN, REDIRECT_URI


@pytest.fixture
def api(amo):  # type: ignore[no-untyped-def]
    """A client with a valid token and its own bucket (the production default)."""
    amo.access_tokens.add("tok")
    config = AmoConfig.from_mapping(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI,
            "api_base_override": amo.url,
            "max_attempts": 3,
        }
    )
    bucket = TokenBucket(config.rate_per_second)
    return AmoClient(config, StaticTokens("tok"), DOMAIN, bucket=bucket)


def test_bursts_are_spread_under_seven_per_second_and_never_hit_429(amo, api):
    threads = [threading.Thread(target=api.get_account) for _ in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    calls = amo.api_calls("GET")
    assert len(calls) == 15
    assert not [c for c in calls if c.extra.get("throttled")]  # the stand-in counts per second


def test_without_the_bucket_the_stand_in_does_throttle(amo, api):
    # guards the test above: the stand-in really answers 429 beyond 7 requests per second
    api.bucket = TokenBucket(1000, capacity=1000)
    api.config = AmoConfig(**{**api.config.__dict__, "max_attempts": 1})
    outcomes = []
    for _ in range(9):
        try:
            api.get_account()
            outcomes.append("ok")
        except AmoApiError as exc:
            outcomes.append(exc.code)
    assert "rate_limited" in outcomes


def test_429_backs_off_and_retries_then_succeeds(amo, api):
    amo.throttle_next = 2
    waits: list[float] = []
    api._sleep = waits.append

    assert api.get_account()["subdomain"] == "example"

    assert len(amo.api_calls()) == 3 and waits == [0.5, 1.0]  # exponential, no Retry-After


def test_persistent_429_fails_as_transient(amo, api):
    amo.throttle_next = 10
    api._sleep = lambda _s: None
    with pytest.raises(AmoApiError) as info:
        api.get_account()
    assert (info.value.code, info.value.transient) == ("rate_limited", True)
    assert len(amo.api_calls()) == 3


def test_missing_lead_is_none_and_a_refused_note_is_a_permanent_error(amo, api):
    assert api.get_lead(404404) is None
    amo.add_lead(1, 142, 7010970, contacts=[])
    with pytest.raises(AmoApiError) as info:
        api.add_lead_notes(1, [{"note_type": "sms_out", "params": {"text": "hi"}}])  # no phone
    assert (info.value.status, info.value.transient) == (400, False)
    assert "validation failed" in str(info.value)


def test_default_bucket_spaces_calls_evenly():
    now = [0.0]
    slept: list[float] = []
    bucket = TokenBucket(6, clock=lambda: now[0], sleep=slept.append)
    for _ in range(3):
        bucket.acquire()
    assert slept == [pytest.approx(1 / 6), pytest.approx(2 / 6)]  # queued one after another


def test_bucket_pause_holds_everyone_back():
    now = [0.0]
    slept: list[float] = []
    bucket = TokenBucket(7, capacity=7, clock=lambda: now[0], sleep=slept.append)
    for _ in range(7):
        bucket.acquire()
    assert slept == []
    bucket.acquire()  # the 8th in the same instant waits 1/7 s
    assert slept == [pytest.approx(1 / 7)]
    bucket.pause(2.0)
    bucket.acquire()
    assert slept[-1] == pytest.approx(2.0)
