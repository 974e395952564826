"""What leaves the relay about people: nothing secret to Sentry, per-IP limits on the
visitor's address behind a proxy."""

from __future__ import annotations

from relay.logs import scrub_sentry_event
from tests.cabinet.helpers import post, text


def test_sentry_gets_no_cabinet_form_or_cookie():
    event = {
        "request": {
            "url": "https://relay.example/cabinet/signup/verify",
            "data": {"code": "123456", "password": "correct horse", "phone": "+375291234567"},
            "cookies": {"relay_cabinet": "eyJ1aWQiOi"},
            "headers": {"Cookie": "relay_cabinet=eyJ1aWQiOi", "User-Agent": "x"},
        },
        "message": "failed for +375291234567",
    }
    out = scrub_sentry_event(event, {})
    assert out["request"]["data"] == "[Filtered]" and out["request"]["cookies"] == "[Filtered]"
    assert out["request"]["headers"] == {"Cookie": "[Filtered]", "User-Agent": "x"}
    assert "+375291234567" not in str(out) and "correct horse" not in str(out)
    # no request body reaches Sentry from the API either (texts, phones, consents)
    api = scrub_sentry_event({"request": {"url": "https://relay.example/v1/events",
                                          "data": {"event_id": "e1"}}}, {})  # fmt: skip
    assert api["request"]["data"] == "[Filtered]"


def test_per_ip_code_limits_use_the_forwarded_address_behind_a_proxy(rt, client):
    rt.config.update(SIGNUP="open", PROXY_HOPS=1, CODE_RATES={"ip": ("1 per hour",)})

    def ask(phone, forwarded):
        return post(client, "/cabinet/signup", {"region": "BY", "phone": phone},
                    headers={"X-Forwarded-For": forwarded})  # fmt: skip

    assert ask("+375291111111", "203.0.113.7").status_code == 302
    assert ask("+375292222222", "198.51.100.9").status_code == 302  # another visitor
    again = ask("+375293333333", "198.51.100.9")
    assert again.status_code == 429 and "Запрошено слишком много кодов." in text(again)
    # a forged entry in front of the proxy's own does not buy a fresh address
    assert ask("+375294444444", "10.9.9.9, 198.51.100.9").status_code == 429
