"""Webhook reception: secret, account check, body format, dedupe, what gets recorded."""

from __future__ import annotations

from sqlalchemy import func, select

from relay.storage.models import ConnectorInbox
from shared.connector import get_context
from tests.connectors.amocrm.helpers import (
    DOMAIN,
    NEW,
    PAID,
    account_pairs,
    form,
    post_webhook,
    status_pairs,
)
from tests.support.factories import run_worker


def records(rt) -> list[ConnectorInbox]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return list(s.scalars(select(ConnectorInbox).order_by(ConnectorInbox.id)))


def count(rt) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(ConnectorInbox))


def test_wrong_secret_is_403_and_records_nothing(rt, client, installed):
    body = status_pairs(1, PAID, NEW) + account_pairs()
    for path in (
        installed["path"][:-1] + "x",
        f"/connectors/amocrm/webhook/{DOMAIN}/",
        "/connectors/amocrm/webhook/other.amocrm.ru/" + installed["path"][-43:],
    ):
        resp = post_webhook(client, path, body)
        assert resp.status_code in (403, 404), path
        if resp.status_code == 403:
            assert resp.get_json()["error"]["code"] == "invalid_webhook_secret"
    assert count(rt) == 0


def test_foreign_account_id_or_subdomain_is_403_and_recorded(rt, client, installed):
    for pairs in (
        status_pairs(1, PAID, NEW) + account_pairs(account_id=31257294),
        status_pairs(1, PAID, NEW) + account_pairs(subdomain="appgpt"),
        status_pairs(1, PAID, NEW, account_id=31257294) + account_pairs(),
        status_pairs(1, PAID, NEW),
    ):  # no account block at all
        resp = post_webhook(client, installed["path"], pairs)
        assert resp.status_code == 403
        assert resp.get_json()["error"]["code"] == "account_mismatch"
    rejected = records(rt)
    assert [r.kind for r in rejected] == ["rejected"] * 4
    assert "account[id] '31257294'" in rejected[0].payload["reason"]
    run_worker(rt)
    assert all(r.status == "received" for r in records(rt))  # evidence only, nothing ran


def test_wrong_content_type_or_garbage_body_is_a_clear_4xx(rt, client, installed):
    resp = client.post(installed["path"], json={"leads": {}})
    assert resp.status_code == 415
    assert resp.get_json()["error"]["code"] == "unsupported_media_type"
    resp = client.post(
        installed["path"],
        data=b"leads%5Bstatus%5D=%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_body"
    assert count(rt) == 0


def test_batch_body_records_each_lead_and_skips_other_entities(rt, client, installed):
    pairs = (
        status_pairs(11, PAID, NEW, index=0)
        + status_pairs(12, 99999, NEW, index=1)
        + [
            ("contacts[update][0][id]", "7001"),
            ("contacts[update][0][name]", "Анна"),
            ("leads[update][0][id]", "11"),
            ("leads[delete][0][id]", "9"),
        ]
        + account_pairs()
    )

    resp = post_webhook(client, installed["path"], pairs)

    assert resp.status_code == 200
    body = resp.get_json()
    assert (len(body["accepted"]), body["duplicates"], body["ignored"]) == (2, 0, 3)
    kinds = {r.kind: r for r in records(rt)}
    assert set(kinds) == {"leads_status", "contacts_update", "leads_update", "leads_delete"}
    assert kinds["contacts_update"].status == "skipped"
    assert "not used" in kinds["contacts_update"].detail
    leads = [r for r in records(rt) if r.kind == "leads_status"]
    assert [r.payload["item"]["id"] for r in leads] == ["11", "12"]


def test_duplicate_delivery_is_recorded_once(rt, client, installed):
    pairs = status_pairs(11, PAID, NEW) + account_pairs()
    first = post_webhook(client, installed["path"], pairs).get_json()
    second = post_webhook(client, installed["path"], pairs).get_json()
    later = post_webhook(
        client,
        installed["path"],
        status_pairs(11, PAID, NEW, last_modified=1768479999) + account_pairs(),
    )
    assert (len(first["accepted"]), second["duplicates"]) == (1, 1)
    assert len(later.get_json()["accepted"]) == 1  # a new change of the same lead is new
    assert count(rt) == 2


def test_item_without_id_is_recorded_as_skipped(rt, client, installed):
    resp = post_webhook(
        client, installed["path"], [("leads[status][0][status_id]", "142")] + account_pairs()
    )
    assert resp.get_json()["ignored"] == 1
    [record] = records(rt)
    assert (record.status, record.detail) == ("skipped", "the lead item has no numeric id")


def test_webhook_answers_fast_without_calling_amocrm(rt, client, amo, installed):
    calls = len(amo.calls)
    post_webhook(client, installed["path"], status_pairs(11, PAID, NEW) + account_pairs())
    assert len(amo.calls) == calls  # the lead is fetched by the job, not the handler


def test_raw_body_exactly_as_amocrm_posts_it(rt, client, installed):
    raw = form(status_pairs(11, PAID, NEW) + account_pairs())
    assert "leads%5Bstatus%5D%5B0%5D%5Bid%5D=11" in raw  # percent-encoded brackets
    resp = client.post(
        installed["path"],
        data=raw.encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "amoCRM-WebHook-client/1.0",
        },
    )
    assert resp.status_code == 200
    [record] = records(rt)
    item = record.payload["item"]
    assert item["custom_fields"][0]["values"][0] == {"value": "Сайт", "enum": "139517"}
    assert get_context("amocrm").inbox.load(record.id).account == DOMAIN
