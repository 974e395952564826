"""Logs and Sentry events never carry a full phone number."""

from __future__ import annotations

import json
import logging

from relay.logs import JsonFormatter, scrub_sentry_event


def test_json_log_lines_mask_phones():
    record = logging.LogRecord(
        "relay", logging.INFO, __file__, 1, "sending to +375291234567", None, None
    )
    record.phone = "+79161234567"
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert "+375291234567" not in line and "+79161234567" not in line
    assert data["msg"] == "sending to +37529*****67"
    assert data["phone"] == "+791******67"


def test_sentry_events_are_scrubbed_everywhere():
    event = {
        "message": "failed for +375291234567",
        "extra": {"to": "+79161234567", "list": ["8 916 123-45-67"]},
        "request": {"data": {"customer": {"phone": "+375 29 123-45-67"}}},
    }
    dumped = json.dumps(scrub_sentry_event(event, {}), ensure_ascii=False)
    for raw in ("+375291234567", "+79161234567", "916 123-45-67", "29 123-45-67"):
        assert raw not in dumped
