"""Every bad request gets a precise JSON error with a 4xx status and leaves no row behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from relay.storage.models import ConsentRecord, Event, Message
from tests.support.factories import order_event

NOON = "2026-01-15T15:00:00+03:00"


def rows(rt) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Event, Message, ConsentRecord)
        )


def assert_error(resp, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    err = resp.get_json()["error"]
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    return err


CASES = [
    # (name, body bytes or dict, status, code, field expected in "fields")
    ("malformed json", b'{"event_id": "a",', 400, "malformed_json", None),
    ("empty body", b"", 400, "empty_body", None),
    ("not an object", b"[1, 2]", 422, "validation_error", "_schema"),
    (
        "unknown type",
        {"event_id": "a", "type": "order.exploded", "occurred_at": NOON},
        422,
        "unknown_event_type",
        "type",
    ),
    (
        "missing phone",
        {
            "event_id": "a",
            "type": "order.status_changed",
            "occurred_at": NOON,
            "order": {"id": "1", "status": "processing"},
        },
        422,
        "validation_error",
        None,
    ),
    (
        "invalid phone",
        order_event("a", "+375 29 12", "processing", NOON),
        422,
        "invalid_phone",
        "customer.phone",
    ),
    (
        "letters in phone",
        order_event("a", "call me", "processing", NOON),
        422,
        "invalid_phone",
        "customer.phone",
    ),
    (
        "unsupported country",
        order_event("a", "+49 151 23456789", "processing", NOON),
        422,
        "unsupported_country",
        "customer.phone",
    ),
    (
        "naive time",
        order_event("a", "+375291234567", "processing", "2026-01-15T15:00:00"),
        422,
        "validation_error",
        "occurred_at",
    ),
    (
        "consent without wording",
        {
            "event_id": "a",
            "type": "consent.granted",
            "occurred_at": NOON,
            "customer": {"phone": "+375291234567"},
            "consent": {"granted": True, "source": "checkout_checkbox"},
        },
        422,
        "validation_error",
        None,
    ),
]


@pytest.mark.parametrize("name,body,status,code,field", CASES, ids=[c[0] for c in CASES])
def test_bad_event_is_rejected_cleanly(rt, client, tenant, name, body, status, code, field):
    kwargs = (
        {"data": body, "content_type": "application/json"}
        if isinstance(body, bytes)
        else {"json": body}
    )
    err = assert_error(client.post("/v1/events", headers=tenant["headers"], **kwargs), status, code)
    if field:
        assert field in err["fields"]
    assert rows(rt) == (0, 0, 0)


def test_oversize_body_is_413(rt, client, tenant):
    event = order_event("big", "+375291234567", "processing", NOON)
    event["order"]["note"] = "x" * (300 * 1024)
    assert_error(
        client.post("/v1/events", json=event, headers=tenant["headers"]), 413, "payload_too_large"
    )
    assert rows(rt) == (0, 0, 0)


@pytest.mark.parametrize(
    "header,code",
    [
        (None, "unauthorized"),
        ("Bearer", "unauthorized"),
        ("Basic abc", "unauthorized"),
        ("Bearer rk_not-a-real-key", "invalid_api_key"),
    ],
)
def test_missing_or_wrong_key_is_401(rt, client, tenant, header, code):
    headers = {"Authorization": header} if header else {}
    event = order_event("k", "+375291234567", "processing", NOON)
    assert_error(client.post("/v1/events", json=event, headers=headers), 401, code)
    assert rows(rt) == (0, 0, 0)


def test_key_without_scope_is_403(rt, client, tenant):
    from relay.tenancy.tenants import create_key, find_tenant

    with rt.session() as s:
        _row, key = create_key(s, find_tenant(s, tenant["id"]), ["messages:read"])
        s.commit()
    event = order_event("s", "+375291234567", "processing", NOON)
    assert_error(
        client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}),
        403,
        "insufficient_scope",
    )
    assert rows(rt) == (0, 0, 0)


def test_other_tenants_message_is_404(rt, client, tenant):
    from tests.support.factories import make_tenant

    other = make_tenant(rt, "other", "RU")
    mid = client.post(
        "/v1/events",
        json=order_event("o", "+375291234567", "processing", NOON),
        headers=tenant["headers"],
    ).get_json()["messages"][0]["id"]
    assert_error(
        client.get(f"/v1/messages/{mid}", headers=other["headers"]), 404, "message_not_found"
    )


@pytest.mark.parametrize("path,method", [("/v1/nope", "get"), ("/v1/events", "get")])
def test_unknown_route_and_method_are_json(client, path, method):
    resp = getattr(client, method)(path)
    assert resp.is_json and resp.status_code in (404, 405)


@pytest.mark.parametrize(
    "raw,code",
    [
        ("+375 29 123-45", "invalid_phone"),
        ("+49 151 23456789", "unsupported_country"),
        ("8 (029) 12", "invalid_phone"),
    ],
)
def test_phone_errors_show_the_callers_own_input_back(rt, client, tenant, raw, code):
    """The caller sees exactly what it sent (not "+4915*******89"); logs still mask it."""
    event = order_event("echo", raw, "processing", NOON)
    err = assert_error(client.post("/v1/events", json=event, headers=tenant["headers"]), 422, code)
    assert repr(raw) in err["message"] and "*" not in err["message"]
    assert err["fields"]["customer.phone"] == [err["message"]]
    err = assert_error(
        client.post("/v1/policy/explain", json={"phone": raw}, headers=tenant["headers"]), 422, code
    )
    assert repr(raw) in err["message"] and "*" not in err["message"]


def test_settings_phone_error_shows_the_callers_input(rt, client, tenant):
    resp = client.patch(
        "/v1/settings",
        json={"notification_contacts": {"phones": ["+375 29 12"]}},
        headers=tenant["headers"],
    )
    err = assert_error(resp, 422, "invalid_settings")
    assert "'+375 29 12'" in err["message"]
    assert err["fields"]["notification_contacts.phones.0"] == [
        "not a valid phone number, got '+375 29 12'"
    ]


def test_the_log_line_of_a_phone_error_still_masks_the_number():
    import json
    import logging

    from relay.logs import JsonFormatter
    from shared.phones import PhoneError, normalize_phone

    try:
        normalize_phone("+4915123456789", "BY")
    except PhoneError as exc:
        caught = exc
    record = logging.LogRecord("relay", logging.WARNING, __file__, 1, str(caught), None, None)
    line = json.loads(JsonFormatter().format(record))
    assert "4915123456789" not in json.dumps(line) and caught.for_caller().endswith("89'")
