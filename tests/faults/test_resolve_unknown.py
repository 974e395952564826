"""An operator settles `unknown` messages (API and CLI): never silently, always named."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from relay.cli import main
from relay.delivery.delivery import claim
from relay.messages.lifecycle import MessageStatus, set_status
from relay.storage.models import AuditEntry, Message, MessageHistory
from tests.support.factories import order_event


def unknown_messages(rt, client, tenant, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        resp = client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event(f"u{i}", f"+3752912345{i:02d}", "processing", rt.now().isoformat()),
        )
        ids.append(resp.get_json()["messages"][0]["id"])
    with rt.session() as s:
        claim(s, ids, rt.now())
        set_status(s, ids, rt.now(), to=MessageStatus.UNKNOWN, only_from=["sending"])
        s.commit()
    return ids


def test_operator_resends_or_fails_unknown_messages_over_the_api(rt, client, tenant):
    ids = unknown_messages(rt, client, tenant, 3)
    rt.config["ADMIN_TOKEN"] = "op-secret"
    op = {"Authorization": "Bearer op-secret"}
    nothing = client.post("/v1/messages/resolve-unknown", headers=op, json={"action": "resend"})
    assert nothing.status_code == 422  # the operator must name what to settle
    resp = client.post(
        "/v1/messages/resolve-unknown", headers=op, json={"action": "resend", "ids": ids[:2]}
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["count"] == 2
    resp = client.post(
        "/v1/messages/resolve-unknown",
        headers=tenant["headers"],
        json={"action": "fail", "ids": ids},
    )
    assert resp.get_json()["ids"] == [ids[2]]  # the resent ones are no longer unknown
    with rt.session() as s:
        got = {m.id: m.status for m in s.scalars(select(Message).where(Message.id.in_(ids)))}
        assert got == {ids[0]: "queued", ids[1]: "queued", ids[2]: "failed"}
        lines = s.scalars(
            select(MessageHistory.detail).where(MessageHistory.reason == "operator")
        ).all()
        assert any(line.startswith("fail decided by key:") for line in lines)
        assert "resend decided by operator" in lines
        actions = s.scalars(select(AuditEntry.action)).all()
        assert "messages.resolve_unknown.resend" in actions
        assert "messages.resolve_unknown.fail" in actions


def test_cli_resolve_unknown_fails_them_and_names_who(rt, client, tenant, monkeypatch):
    ids = unknown_messages(rt, client, tenant, 2)
    monkeypatch.setenv("RELAY_DATABASE_URL", rt.config["DATABASE_URL"])
    result = CliRunner().invoke(
        main,
        ["messages", "resolve-unknown", "--fail", "--actor", "anna", "--json", *ids],
    )
    assert result.exit_code == 0, result.output
    with rt.session() as s:
        assert {m.status for m in s.scalars(select(Message).where(Message.id.in_(ids)))} == {
            "failed"
        }
        details = s.scalars(
            select(MessageHistory.detail).where(MessageHistory.reason == "operator")
        ).all()
        assert details == ["fail decided by cli:anna"] * 2
    refused = CliRunner().invoke(main, ["messages", "resolve-unknown", "--json", *ids])
    assert refused.exit_code != 0  # neither --resend nor --fail: nothing happens
