"""The promises of docs/security.md that no other test shows on the stored rows, and the
document itself: every test it names exists."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import text

from relay.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent.parent


def _stored(rt) -> str:  # type: ignore[no-untyped-def]
    rows = []
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows += [str(list(r)) for r in conn.execute(text(f"SELECT * FROM {table.name}"))]
    return "\n".join(rows)


def test_api_keys_are_stored_as_sha256_only(rt, tenant):
    key = tenant["key"]
    stored = _stored(rt)
    assert key not in stored
    assert hashlib.sha256(key.encode()).hexdigest() in stored


def test_gateway_credentials_are_stored_encrypted(rt, client):
    rt.config["ADMIN_TOKEN"] = "op-secret"
    made = client.post(
        "/v1/providers",
        headers={"Authorization": "Bearer op-secret"},
        json={"name": "gw", "type": "sandbox", "config": {"password": "pl41n-pa55word"}},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert "pl41n-pa55word" not in _stored(rt)


def test_every_test_the_security_document_names_exists():
    doc = (ROOT / "docs" / "security.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", doc)
    assert len(named) >= 15
    missing = []
    for path, name in named:
        source = ROOT / path
        if not source.is_file() or f"def {name}(" not in source.read_text():
            missing.append(f"{path}::{name}")
    assert missing == []
    assert "## Faults: outages, killed workers, gateways" in doc
