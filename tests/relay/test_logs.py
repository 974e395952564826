"""Logs and Sentry events never carry a full phone number."""

from __future__ import annotations

import json
import logging

from relay.logs import JsonFormatter, scrub_sentry_event
from relay.providers.base import ProviderError


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


def test_sentry_events_carry_no_body_token_query_text_or_credentials():
    event = {
        "request": {
            "url": "https://relay.example/callbacks/smsru/0123456789abcdef/inbound",
            "query_string": "from=%2B79161234567&text=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82&limit=5",
            "data": {"text": "my secret reply", "phone": "+79161234567"},
            "headers": {"Authorization": "Bearer rk_secret", "User-Agent": "x"},
            "cookies": {"session": "abc"},
        },
        "breadcrumbs": {
            "values": [{"data": {"url": "/callbacks/smsru/0123456789abcdef/dlr?text=hi"}}]
        },
    }
    dumped = json.dumps(scrub_sentry_event(event, {}), ensure_ascii=False)
    for secret in ("0123456789abcdef", "my secret reply", "привет", "rk_secret", "9161234567"):
        assert secret not in dumped, secret
    assert "limit=5" in dumped and "/callbacks/smsru/***/inbound" in dumped


def test_the_development_server_access_line_is_made_safe():
    from relay.logs import AccessLineFilter

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [%s] "%s" %s %s',
        (
            "127.0.0.1",
            "now",
            "GET /callbacks/sms/tok123456/inbound?from=%2B79161234567&text=hi HTTP/1.1",
            "200",
            "-",
        ),
        None,
    )
    record.args = (record.args[2], "200", "-")
    record.msg = '"%s" %s %s'
    AccessLineFilter().filter(record)
    line = record.getMessage()
    assert "tok123456" not in line and "9161234567" not in line and "text=hi" not in line
    assert line.startswith('"GET /callbacks/sms/***/inbound?from=+791******67&text=-')


def test_a_gateway_url_in_a_log_line_or_an_error_loses_its_credentials_and_text():
    # what urllib3 logs when Kannel refuses the connection and it retries
    url = "/cgi-bin/sendsms?username=relay&password=s3cret&to=%2B375291234567&text=Hello%20Anna"
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.WARNING, __file__, 1,
        "Retrying (%r) after connection broken by '%r': %s", ("Retry(total=2)", "refused", url),
        None,
    )  # fmt: skip
    line = JsonFormatter().format(record)
    assert "s3cret" not in line and "Hello" not in line and "375291234567" not in line
    assert "password=-" in line
    err = ProviderError("transient", "connection", f"Max retries exceeded with url: {url}")
    assert "s3cret" not in str(err) and "Hello" not in err.message
