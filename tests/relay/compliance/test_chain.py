"""The tamper-evident ledger: consent records, stop-list changes and audit entries are
hash-chained per tenant; verify names the first record edited, inserted or deleted; signed
digests catch a chain re-hashed from the start; two writers never fork a chain."""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime

from sqlalchemy import select, text

from relay.compliance.chain import GENESIS, record_hash, verify
from relay.compliance.consent_ledger import record_consent
from relay.compliance.digests import make_digests, verify_all
from relay.storage.models import AuditEntry, ConsentRecord, LedgerHead, StopChange, Tenant
from tests.relay.test_cli import relay

PHONE = "+375291234567"


def grant(client, tenant, phone=PHONE, wording="Согласен на рекламу"):  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/consents",
        headers=tenant["headers"],
        json={
            "phone": phone,
            "granted": True,
            "source": "checkout_checkbox",
            "wording": wording,
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def ledger(client, tenant):  # type: ignore[no-untyped-def]
    """A few of each: grants, a revocation, stop-list adds and a delete (all audited)."""
    h = tenant["headers"]
    first = grant(client, tenant)
    grant(client, tenant, "+375291234568")
    client.post(
        "/v1/consents", headers=h, json={"phone": PHONE, "granted": False, "source": "crm_field"}
    )
    entry = client.post("/v1/stoplist/entries", headers=h, json={"phone": PHONE}).get_json()
    client.post("/v1/stoplist/entries", headers=h, json={"phone": "+375291234569"})
    client.post("/v1/stoplist/delete", headers=h, json={"ids": [entry["id"]]})
    return first


def check(rt, tenant):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return verify(s, tenant["id"])


def test_every_record_carries_the_hash_of_the_one_before_and_verify_passes(rt, client, tenant):
    ledger(client, tenant)
    with rt.session() as s:
        records = []
        for model in (ConsentRecord, StopChange, AuditEntry):
            records += s.scalars(select(model).where(model.tenant_id == tenant["id"])).all()
        records.sort(key=lambda r: r.chain_seq)
        assert [r.chain_seq for r in records] == list(range(1, len(records) + 1))
        assert records[0].chain_prev == GENESIS
        for before, after in zip(records, records[1:], strict=False):
            assert after.chain_prev == before.chain_hash
        kinds = {type(r).__name__ for r in records}
        assert kinds == {"ConsentRecord", "StopChange", "AuditEntry"}
        head = s.get(LedgerHead, tenant["id"])
        assert (head.seq, head.hash) == (records[-1].chain_seq, records[-1].chain_hash)
    report = check(rt, tenant)
    assert report.ok and report.records == len(records), report.to_dict()


def test_an_edited_row_is_named(rt, client, tenant):
    first = ledger(client, tenant)
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE consent_records SET wording = 'Согласен на всё' WHERE id = :id"),
            {"id": first["id"]},
        )
    problem = check(rt, tenant).problem
    assert problem is not None
    assert (problem.kind, problem.table, problem.record_id) == (
        "edited",
        "consent_records",
        first["id"],
    )


def test_an_edited_time_or_json_field_is_caught_too(rt, client, tenant):
    ledger(client, tenant)
    with rt.engine.begin() as conn:
        audit_id = conn.execute(text("SELECT max(id) FROM audit_log")).scalar()
        conn.execute(
            text("UPDATE audit_log SET after = '{\"forged\": true}' WHERE id = :id"),
            {"id": audit_id},
        )
    problem = check(rt, tenant).problem
    assert (problem.kind, problem.table, problem.record_id) == ("edited", "audit_log", audit_id)


def test_an_inserted_row_is_named(rt, client, tenant):
    ledger(client, tenant)
    with rt.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consent_records (tenant_id, phone, purpose, channel, granted, source,"
                " wording, recorded_at) VALUES (:t, :p, 'marketing', 'all', :g, 'import',"
                " 'backdated', :at)"
            ),
            {"t": tenant["id"], "p": "+375290000000", "g": True, "at": datetime(2025, 1, 1)},
        )
        new_id = conn.execute(text("SELECT max(id) FROM consent_records")).scalar()
    problem = check(rt, tenant).problem
    assert (problem.kind, problem.table, problem.record_id) == (
        "inserted",
        "consent_records",
        new_id,
    )


def test_a_row_inserted_with_a_forged_place_in_the_chain_is_named(rt, client, tenant):
    ledger(client, tenant)
    with rt.session() as s:
        third = s.scalar(select(ConsentRecord).where(ConsentRecord.chain_seq == 3))
        seq, prev = third.chain_seq, third.chain_prev
    with rt.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consent_records (tenant_id, phone, purpose, channel, granted, source,"
                " wording, recorded_at, chain_seq, chain_prev, chain_hash) VALUES (:t, :p,"
                " 'marketing', 'all', :g, 'import', 'forged', :at, :seq,"
                " :prev, :hash)"
            ),
            {
                "t": tenant["id"],
                "p": "+375290000000",
                "g": True,
                "seq": seq,
                "prev": prev,
                "hash": "f" * 64,
                "at": datetime(2025, 1, 1),
            },
        )
    problem = check(rt, tenant).problem
    assert problem.kind in ("inserted", "edited") and problem.seq == seq


def test_a_deleted_row_is_named(rt, client, tenant):
    ledger(client, tenant)
    with rt.session() as s:
        victim = s.scalar(select(StopChange).order_by(StopChange.chain_seq).limit(1))
        seq = victim.chain_seq
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM stoplist_changes WHERE id = :id"), {"id": victim.id})
    problem = check(rt, tenant).problem
    assert (problem.kind, problem.seq) == ("deleted", seq)
    assert "missing" in problem.detail


def test_the_deleted_last_record_is_caught_by_the_head(rt, client, tenant):
    ledger(client, tenant)
    with rt.engine.begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM audit_log")).scalar()
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last})
    problem = check(rt, tenant).problem
    assert problem.kind == "deleted"


def test_a_chain_rehashed_from_the_start_disagrees_with_the_signed_digest(rt, client, tenant):
    first = ledger(client, tenant)
    secret = rt.config["SECRET_KEY"]
    with rt.session() as s:
        [digest] = make_digests(s, secret, rt.now(), tenant["id"])
        s.commit()
        assert digest.seq > 0
    # someone with database access edits a record and recomputes every hash and the head
    with rt.session() as s:
        s.execute(
            text("UPDATE consent_records SET wording = 'Согласен на всё' WHERE id = :id"),
            {"id": first["id"]},
        )
        records = []
        from relay.compliance.chain import CHAINED

        for table, (model, cols) in CHAINED.items():
            for row in s.scalars(select(model).where(model.tenant_id == tenant["id"])):
                records.append((row.chain_seq, table, row, cols))
        records.sort(key=lambda r: r[0])
        prev = GENESIS
        for seq, table, row, cols in records:
            values = {c: getattr(row, c) for c in cols}
            row.chain_prev, row.chain_hash = prev, record_hash(prev, seq, table, values)
            prev = row.chain_hash
        s.get(LedgerHead, tenant["id"]).hash = prev
        s.commit()
    with rt.session() as s:
        assert verify(s, tenant["id"]).ok  # the chain alone looks fine …
        [report] = verify_all(s, secret, tenant["id"])
    assert not report.ok  # … but not to the digest signed before
    assert "signed" in report.problem.detail


def test_a_tenant_with_no_records_passes_and_an_empty_relay_passes(rt, client, tenant):
    with rt.session() as s:
        assert all(r.ok for r in verify_all(s, rt.config["SECRET_KEY"]))
        [report] = verify_all(s, rt.config["SECRET_KEY"], tenant["id"])
        assert report.ok and report.records == 0


def test_bulk_imports_join_the_chain(rt, client, tenant):
    data = "phone;дата\n+375291111111;01.02.2026\n+375291111112;01.02.2026\n".encode("cp1251")
    resp = client.post(
        "/v1/consents/import",
        data={"file": (io.BytesIO(data), "c.csv"), "wording": "Согласен"},
        headers=tenant["headers"],
        content_type="multipart/form-data",
    )
    assert resp.status_code in (200, 202), resp.get_json()
    stop = client.post(
        "/v1/stoplist/import",
        data={"file": (io.BytesIO(b"phone\n+375291110055\n"), "stop.csv")},
        headers=tenant["headers"],
        content_type="multipart/form-data",
    )
    assert stop.status_code in (200, 202)
    with rt.session() as s:
        assert s.scalar(select(ConsentRecord.chain_hash).limit(1))
        assert s.scalars(select(StopChange.action)).all() == ["add"]
    assert check(rt, tenant).ok


def test_two_writers_for_one_tenant_never_fork_the_chain(rt, tenant):
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with rt.session() as s:
                    t = s.get(Tenant, tenant["id"])
                    record_consent(
                        s,
                        t,
                        {
                            "phone": f"+37529{n}{i:06d}",
                            "granted": True,
                            "source": "import",
                            "wording": "да",
                        },
                        f"writer-{n}",
                        rt.now(),
                    )
                    s.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with rt.session() as s:
        report = verify(s, tenant["id"])
        assert report.ok, report.to_dict()
        assert report.records == 60 and report.head_seq == 60  # 30 records + 30 audit entries


def test_verify_command_names_the_record_and_exits_1(rt, client, tenant):
    first = ledger(client, tenant)
    out = relay(rt, "compliance", "verify", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["ok"] and any(c["tenant"] == tenant["id"] for c in doc["chains"])
    out = relay(rt, "compliance", "digest", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["digests"]
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE consent_records SET ip = '198.51.100.1' WHERE id = :id"),
            {"id": first["id"]},
        )
    out = relay(rt, "compliance", "verify", "--tenant", tenant["name"], "--json")
    assert out.returncode == 1
    [chain] = json.loads(out.stdout)["chains"]
    assert chain["problem"]["kind"] == "edited"
    assert (chain["problem"]["table"], chain["problem"]["id"]) == ("consent_records", first["id"])
    human = relay(rt, "compliance", "verify", "--tenant", tenant["id"])
    assert human.returncode == 1 and f"consent_records #{first['id']}" in human.stdout
    key = relay(rt, "compliance", "public-key", "--json")
    assert json.loads(key.stdout)["algorithm"] == "Ed25519"


def test_records_from_before_the_chain_are_sealed_by_the_first_write(rt, client, tenant):
    with rt.engine.begin() as conn:  # an upgraded relay: rows without chain columns, no head
        for i in range(3):
            conn.execute(
                text(
                    "INSERT INTO consent_records (tenant_id, phone, purpose, channel, granted,"
                    " source, wording, recorded_at) VALUES (:t, :p, 'marketing', 'all', :g,"
                    " 'import', 'да', :at)"
                ),
                {
                    "t": tenant["id"],
                    "p": f"+37529000000{i}",
                    "g": True,
                    "at": datetime(2025, i + 1, 1),
                },
            )
    assert check(rt, tenant).problem.kind == "inserted"  # not sealed yet: said so
    grant(client, tenant)
    report = check(rt, tenant)
    assert report.ok and report.records == 5, report.to_dict()  # 3 old + grant + its audit


def test_the_api_verifies_the_tenants_chain_and_publishes_digests(rt, client, tenant):
    ledger(client, tenant)
    h = tenant["headers"]
    resp = client.get("/v1/compliance/verify", headers=h)
    assert resp.status_code == 200 and resp.get_json()["ok"] is True
    with rt.session() as s:
        make_digests(s, rt.config["SECRET_KEY"], rt.now())
        s.commit()
    page = client.get("/v1/compliance/digests", headers=h).get_json()
    [digest] = page["items"]
    assert digest["chain"] == tenant["id"] and len(digest["public_key"]) == 64
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(bytes.fromhex(digest["public_key"])).verify(
        bytes.fromhex(digest["signature"]), digest["signed"].encode()
    )
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM stoplist_changes"))
    broken = client.get("/v1/compliance/verify", headers=h).get_json()
    assert broken["ok"] is False and broken["problem"]["kind"] == "deleted"
