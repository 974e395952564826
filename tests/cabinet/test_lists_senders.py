"""Sender names in the cabinet through HTTP: the list with states, a request checked by the
server's rule (SMS ≤ 11 Latin, Viber ≤ 20 Latin or Cyrillic), errors as 4xx pages with
nothing written, a viewer refused; the live check's script is on the page."""

from __future__ import annotations

import pytest

from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.support.factories import make_tenant

OWNER = "+375291111111"
VIEWER = "+375292222222"


@pytest.fixture
def store(rt):
    t = make_tenant(rt, "Цветы у дома", "BY")
    add_user(rt, t["id"], OWNER, "manager")
    add_user(rt, t["id"], VIEWER, "viewer")
    return t


def senders(client, store):
    return client.get("/v1/senders", headers=store["headers"]).get_json()["items"]


def test_request_names_by_the_channels_rules(client, store):
    sign_in(client, OWNER)
    page = text(client.get("/cabinet/senders"))
    assert "data-sender-rules" in page and "lists.js" in page
    assert (
        post(client, "/cabinet/senders/new", {"channel": "sms", "name": "SHOP.BY"}).status_code
        == 302
    )
    assert (
        post(
            client, "/cabinet/senders/new", {"channel": "viber", "name": "Цветы у дома"}
        ).status_code
        == 302
    )
    page = text(client.get("/cabinet/senders"))
    assert "Имя запрошено." in page and "SHOP.BY" in page and "запрошено" in page
    for channel, name in (("sms", "Цветы"), ("sms", "TOO-LONG-NAME"), ("viber", "x" * 21),
                          ("sms", " SHOP")):  # fmt: skip
        resp = post(client, "/cabinet/senders/new", {"channel": channel, "name": name})
        assert resp.status_code == 422 and 'id="error-name"' in text(resp), name
    resp = post(client, "/cabinet/senders/new", {"channel": "sms", "name": "SHOP.BY"})
    assert resp.status_code == 409 and "уже зарегистрировано" in text(resp)
    resp = post(client, "/cabinet/senders/new", {"channel": "fax", "name": "SHOP"})
    assert resp.status_code == 422
    assert sorted((s["channel"], s["name"], s["state"]) for s in senders(client, store)) == [
        ("sms", "SHOP.BY", "requested"),
        ("viber", "Цветы у дома", "requested"),
    ]


def test_a_viewer_sees_the_names_but_cannot_request(client, store):
    sign_in(client, VIEWER)
    assert "Запросить имя" not in text(client.get("/cabinet/senders"))
    assert (
        post(client, "/cabinet/senders/new", {"channel": "sms", "name": "SHOP"}).status_code == 403
    )
    assert senders(client, store) == []


SAMPLES = [
    ("sms", "SHOP.BY"),
    ("sms", "Цветы"),
    ("sms", "TOO-LONG-NAME"),
    ("sms", "12345"),
    ("sms", "+375291234567"),
    ("sms", " SHOP"),
    ("sms", "___"),
    ("viber", "Цветы у дома"),
    ("viber", "x" * 21),
    ("viber", "Ёлка №1"),
    ("viber", "..."),
    ("viber", "Shop «Ель»"),
]


def test_the_scripts_rule_is_the_servers():
    import json
    import shutil
    import subprocess
    from pathlib import Path

    from relay.policy import sender_name_problem

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node")
    script = Path(__file__).resolve().parents[2] / "relay/cabinet/static/lists.js"
    program = f"""
      var src = require("fs").readFileSync({json.dumps(str(script))}, "utf8");
      var RULES = eval("(" + src.match(/var RULES = (\\{{[\\s\\S]*?\\}});/)[1] + ")");
      var samples = {json.dumps(SAMPLES, ensure_ascii=False)};
      console.log(JSON.stringify(samples.map(function (s) {{
        return s[1] === s[1].trim() && s[1] !== "" && RULES[s[0]].test(s[1]); }})));
    """
    out = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout) == [sender_name_problem(c, n) is None for c, n in SAMPLES]
