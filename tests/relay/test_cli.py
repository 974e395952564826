"""The `relay` command's fixed contracts (docs/architecture.md, 'API'), run as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from relay.storage.models import NumberRange


def relay(rt, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = dict(
        os.environ,
        RELAY_DATABASE_URL=rt.config["DATABASE_URL"],
        RELAY_SECRET_KEY=rt.config["SECRET_KEY"],
        RELAY_REDIS_URL=rt.config["REDIS_URL"],
    )
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        cwd=cwd,
    )


def test_tenants_and_keys_create_print_json(rt, client):
    out = relay(rt, "tenants", "create", "Магазин", "--region", "KZ", "--json")
    assert out.returncode == 0, out.stderr
    tenant = json.loads(out.stdout)
    assert tenant["region"] == "KZ" and tenant["timezone"] == "Asia/Almaty" and tenant["id"]
    out = relay(
        rt,
        "keys",
        "create",
        "Магазин",
        "--scope",
        "events:write",
        "--scope",
        "messages:read",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["key"]
    assert key.startswith("rk_")
    resp = client.post(
        "/v1/policy/explain",
        json={"phone": "+77011234567"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "args,code",
    [
        (("tenants", "create", "x", "--region", "DE", "--json"), "unsupported_region"),
        (("keys", "create", "nobody", "--scope", "admin", "--json"), "tenant_not_found"),
    ],
)
def test_cli_errors_are_json_with_exit_2(rt, args, code):
    out = relay(rt, *args)
    assert out.returncode == 2
    assert json.loads(out.stderr)["error"]["code"] == code


def test_duplicate_tenant_name_is_refused(rt):
    assert relay(rt, "tenants", "create", "dup", "--region", "BY").returncode == 0
    out = relay(rt, "tenants", "create", "dup", "--region", "BY", "--json")
    assert out.returncode == 2 and json.loads(out.stderr)["error"]["code"] == "tenant_exists"


def test_numbering_import_narrows_a_mobile_to_its_zone(rt, client, tenant, tmp_path):
    registry = tmp_path / "DEF-9xx.csv"
    registry.write_bytes(
        "АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН\n"
        '914;0000000;0999999;1000000;ПАО "МТС";Приморский край;Приморский край;7740000076\n'.encode(
            "utf-8-sig"
        )
    )
    out = relay(rt, "numbering", "import", str(registry))
    assert out.returncode == 0, out.stderr
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(NumberRange)) == 1
    from relay.decisions.facts import NUMBERING

    NUMBERING.invalidate()
    body = client.post(
        "/v1/policy/explain",
        headers=tenant["headers"],
        json={"phone": "+79140123456", "at": "2026-01-15T21:30:00+00:00"},
    ).get_json()
    # 21:30 UTC is 07:30 in Vladivostok: allowed there, though not in all 16 candidate zones
    assert body["timezones"] == ["Asia/Vladivostok"]
    assert body["decision"] == "send"


def test_flows_load_rejects_a_bad_file_and_changes_nothing(rt, tenant, tmp_path):
    bad = tmp_path / "flows.json"
    bad.write_text(
        json.dumps({"templates": [{"name": "t", "category": "marketing", "sms_text": "{{ broken"}]})
    )
    out = relay(rt, "flows", "load", tenant["name"], str(bad))
    assert out.returncode == 2 and "template syntax error" in out.stderr
    good = tmp_path / "ok.json"
    good.write_text(
        json.dumps(
            {
                "templates": [{"name": "hello", "category": "transactional", "sms_text": "Привет"}],
                "flows": [
                    {
                        "name": "hi",
                        "trigger": "customer.birthday",
                        "template": "hello",
                        "category": "transactional",
                    }
                ],
            }
        )
    )
    out = relay(rt, "flows", "load", tenant["name"], str(good))
    assert out.returncode == 0 and "loaded 1 templates and 1 flows" in out.stdout


def test_every_data_command_prints_one_json_document_with_json(rt, tmp_path):
    """`--json`: one JSON document on stdout, carrying the key fields, for every command that
    prints data (`relay demo --json` is covered in test_demo.py)."""

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        out = relay(rt, *args, "--json")
        assert out.returncode == 0, (args, out.stderr)
        return json.loads(out.stdout)  # one document: a second one would not parse

    assert run("db", "upgrade")["revision"]
    tenant = run("tenants", "create", "json-shop", "--region", "BY")
    assert tenant["id"]
    listed = run("tenants", "list")["tenants"]
    assert [(t["id"], t["name"]) for t in listed] == [(tenant["id"], "json-shop")]
    assert run("keys", "create", "json-shop", "--scope", "admin")["key"].startswith("rk_")
    added = run("providers", "add", "sbx", "--type", "sandbox", "--config", "{}")
    assert (added["name"], added["type"]) == ("sbx", "sandbox")
    assert [p["name"] for p in run("providers", "list")["providers"]] == ["sbx"]
    assert run("providers", "check", "sbx")["ok"] is True
    assert run("tenants", "set-providers", "json-shop", "sbx")["providers"] == ["sbx"]
    sender = run("senders", "set", "json-shop", "SHOP", "--state", "active")
    assert (sender["name"], sender["state"]) == ("SHOP", "active") and sender["id"]
    flows = tmp_path / "flows.json"
    flows.write_text(
        json.dumps(
            {
                "templates": [{"name": "hi", "category": "transactional", "sms_text": "Привет"}],
                "flows": [
                    {
                        "name": "hi",
                        "trigger": "customer.birthday",
                        "template": "hi",
                        "category": "transactional",
                    }
                ],
            }
        )
    )
    assert run("flows", "load", "json-shop", str(flows)) == {
        "tenant": "json-shop",
        "templates": 1,
        "flows": 1,
    }
    registry = tmp_path / "DEF-9xx.csv"
    registry.write_bytes(
        "АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН\n"
        '914;0000000;0999999;1000000;ПАО "МТС";Приморский край;Приморский край;7740000076\n'.encode(
            "utf-8-sig"
        )
    )
    imported = run("numbering", "import", str(registry))
    assert imported["imported"] == 1 and imported["files"][0]["file"] == "DEF-9xx.csv"
    assert run("archive", "run") == {"moved": 0, "batches": 0}
    assert set(run("sweep")) >= {"requeued", "unknown"}


def test_json_errors_go_to_stderr_as_one_document(rt):
    out = relay(rt, "providers", "check", "nope", "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert json.loads(out.stderr)["error"]["code"] == "provider_not_found"
