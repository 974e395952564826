"""Message log, exports, statistics and the archive."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from relay.compliance.archive import archive_old_messages
from relay.reporting.reports import offset_pieces
from relay.storage.models import Message, MessageHistory, Tenant, messages_archive
from relay.storage.types import new_id
from relay.tenancy.tenants import create_key
from tests.support.factories import make_tenant

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
MTS, RU = "+375292000055", "+79031234567"  # MTS Belarus, Beeline Russia


def put(rt, tenant_id: str, at: datetime, **kw: Any) -> str:  # type: ignore[no-untyped-def]
    """Insert one message created at `at`; returns its id."""
    row = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "phone": MTS,
        "channel": "sms",
        "category": "transactional",
        "sender": None,
        "text": "Заказ принят",
        "urgent": False,
        "status": "delivered",
        "segments": 1,
        "cost": Decimal("0.0500"),
        "currency": "BYN",
        "attempts": 0,
        "created_at": at,
        "updated_at": at,
        **kw,
    }
    with rt.session() as s:
        s.execute(insert(Message), [row])
        # a message as the relay leaves it: its history, queued and then its final status
        s.execute(
            insert(MessageHistory),
            [
                {"message_id": row["id"], "status": "queued", "at": at},
                {"message_id": row["id"], "status": row["status"], "at": at + timedelta(seconds=5)},
            ],
        )
        s.commit()
    return row["id"]


def get(client, tenant, url):  # type: ignore[no-untyped-def]
    resp = client.get(url, headers=tenant["headers"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    if url.startswith("/v1/messages?"):  # a list: the one shape, and the archive header
        assert set(body) == {"items", "next_cursor"}
        body["includes_archive"] = {"true": True, "false": False}[
            resp.headers["X-Includes-Archive"]
        ]
    return body


def test_log_filters_and_pages_newest_first_with_a_stable_cursor(rt, client, tenant):
    t = tenant["id"]
    ids = [put(rt, t, NOW - timedelta(hours=h)) for h in range(6)]  # ids[0] is the newest
    failed = put(rt, t, NOW - timedelta(hours=7), status="failed", phone=RU, channel="viber")
    other = make_tenant(rt, "other", "BY")
    put(rt, other["id"], NOW)

    first = get(client, tenant, "/v1/messages?limit=3")
    assert [m["id"] for m in first["items"]] == ids[:3]
    put(rt, t, NOW + timedelta(minutes=1))  # a newer message must not shift the next page
    second = get(client, tenant, f"/v1/messages?limit=3&cursor={first['next_cursor']}")
    assert [m["id"] for m in second["items"]] == ids[3:6]
    third = get(client, tenant, f"/v1/messages?limit=3&cursor={second['next_cursor']}")
    assert [m["id"] for m in third["items"]] == [failed] and third["next_cursor"] is None

    assert [m["id"] for m in get(client, tenant, "/v1/messages?status=failed")["items"]] == [failed]
    by_phone = get(client, tenant, "/v1/messages?phone=%2B7%20903%20123-45-67")
    assert [m["id"] for m in by_phone["items"]] == [failed]
    local = get(client, tenant, "/v1/messages?phone=8%20029%20200-00-55&limit=500")
    assert len(local["items"]) == 7  # the Belarusian way of writing MTS
    assert [m["id"] for m in get(client, tenant, "/v1/messages?channel=viber")["items"]] == [failed]
    # a local date covers the whole day in Minsk: 14 Jan 21:00 UTC … 15 Jan 21:00 UTC
    day = get(client, tenant, "/v1/messages?from=2026-01-15&to=2026-01-15&limit=500")
    assert len(day["items"]) == 8 and day["includes_archive"] is False
    for bad, field in (
        ("cursor=nonsense", "cursor"),
        ("limit=501", "limit"),
        ("status=lost", "status"),
        ("from=yesterday", "from"),
        ("from=2026-01-15&to=2026-01-14", "to"),
        ("flow=nope", "flow"),
        ("phone=12", "phone"),
    ):
        resp = client.get(f"/v1/messages?{bad}", headers=tenant["headers"])
        err = resp.get_json()["error"]
        assert (resp.status_code, err["code"]) == (400, "invalid_query"), bad
        assert field in err["fields"], (bad, err)


def test_log_and_reports_need_the_right_key(rt, client, tenant):
    put(rt, tenant["id"], NOW)
    with rt.session() as s:
        _row, writer = create_key(s, s.get(Tenant, tenant["id"]), ["events:write"])
        _row, reader = create_key(s, s.get(Tenant, tenant["id"]), ["messages:read"])
        s.commit()
    for url in ("/v1/messages", "/v1/messages/export", "/v1/reports/stats"):
        assert client.get(url).status_code == 401
        assert client.get(url, headers={"Authorization": f"Bearer {writer}"}).status_code == 403
        assert client.get(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    campaigns = client.get("/v1/campaigns", headers={"Authorization": f"Bearer {reader}"})
    assert campaigns.status_code == 403  # campaigns need the admin scope


def test_export_streams_filtered_rows_and_defuses_spreadsheet_formulas(rt, client, tenant):
    put(rt, tenant["id"], NOW, text='=HYPERLINK("http://evil")', status="sent")
    put(rt, tenant["id"], NOW - timedelta(hours=1), status="blocked", reason="no_consent")
    resp = client.get("/v1/messages/export?status=sent", headers=tenant["headers"])
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["text"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["phone"] == MTS  # a phone number is not a formula
    assert rows[0]["created_at"] == "2026-01-15 15:00:00"  # the tenant's local time
    from openpyxl import load_workbook

    xlsx = client.get("/v1/messages/export?format=xlsx", headers=tenant["headers"])
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3 and values[0][0] == "message_id"
    assert sorted(v[values[0].index("status")] for v in values[1:]) == ["blocked", "sent"]


def test_stats_count_local_days_weeks_months_operators_and_billed_spend(rt, client, tenant):
    t = tenant["id"]
    put(rt, t, datetime(2026, 1, 12, 9, tzinfo=UTC), segments=2, cost=Decimal("0.10"))
    # 22:30 UTC on the 14th is 01:30 on the 15th in Minsk: it counts on the 15th
    put(rt, t, datetime(2026, 1, 14, 22, 30, tzinfo=UTC), category="marketing")
    put(
        rt,
        t,
        datetime(2026, 1, 15, 10, tzinfo=UTC),
        phone=RU,
        channel="viber",
        cost=Decimal("1"),
        currency="BYN",
    )
    put(rt, t, datetime(2026, 1, 15, 11, tzinfo=UTC), status="blocked", reason="stop_list")
    put(rt, t, datetime(2026, 2, 2, 11, tzinfo=UTC), status="failed")
    period = "from=2026-01-01&to=2026-02-28"
    day = get(client, tenant, f"/v1/reports/stats?{period}&group=day")
    buckets = {b["start"]: b for b in day["buckets"]}
    assert sorted(buckets) == ["2026-01-12", "2026-01-15", "2026-02-02"]
    jan15 = buckets["2026-01-15"]
    assert jan15["messages"] == 3
    assert jan15["by_status"] == {"delivered": 2, "blocked": 1}
    assert jan15["by_channel"] == {"sms": 2, "viber": 1}
    assert jan15["by_category"] == {"marketing": 1, "transactional": 2}
    assert (jan15["segments"], jan15["spend"]) == (2, {"BYN": "1.0500"})  # blocked costs nothing
    totals = day["totals"]
    assert (totals["messages"], totals["segments"], totals["spend"]) == (5, 4, {"BYN": "1.1500"})
    assert day["timezone"] == "Europe/Minsk"
    ops = {(o["country"], o["operator"]): o for o in day["by_operator"]}
    assert ops[("BY", "MTS")]["messages"] == 4 and ops[("BY", "MTS")]["sent"] == 2
    assert ops[("RU", "Beeline")]["spend"] == {"BYN": "1.0000"}
    week = get(client, tenant, f"/v1/reports/stats?{period}&group=week")
    assert [(b["start"], b["messages"]) for b in week["buckets"]] == [
        ("2026-01-12", 4),  # Monday of ISO week 3
        ("2026-02-02", 1),
    ]
    month = get(client, tenant, f"/v1/reports/stats?{period}&group=month")
    assert [(b["start"], b["messages"]) for b in month["buckets"]] == [
        ("2026-01-01", 4),
        ("2026-02-01", 1),
    ]
    for query in ("group=year", "from=someday"):
        bad = client.get(f"/v1/reports/stats?{query}", headers=tenant["headers"])
        assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_query")
    other = make_tenant(rt, "other", "BY")
    assert get(client, other, f"/v1/reports/stats?{period}")["totals"]["messages"] == 0


def test_period_is_cut_where_summer_time_starts():
    berlin = ZoneInfo("Europe/Berlin")
    start, end = datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert offset_pieces(berlin, start, end) == [
        (start, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 60),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), end, 120),
    ]
    minsk = ZoneInfo("Europe/Minsk")
    assert offset_pieces(minsk, start, end) == [(start, end, 180)]


def test_archive_moves_old_messages_with_their_history_and_they_stay_queryable(
    rt, client, tenant, clock
):
    t = tenant["id"]
    old = [put(rt, t, NOW - timedelta(days=400 + i)) for i in range(3)]
    waiting = put(rt, t, NOW - timedelta(days=500), status="scheduled")  # still live: stays
    recent = put(rt, t, NOW - timedelta(days=3))
    report = archive_old_messages(rt, batch=2)
    assert (report.moved, report.batches) == (3, 2)
    with rt.session() as s:
        live = set(s.scalars(select(Message.id)))
        archived = {r.id: r for r in s.execute(select(messages_archive))}
        history_left = s.scalar(
            select(func.count())
            .select_from(MessageHistory)
            .where(MessageHistory.message_id.in_(old))
        )
    assert live == {waiting, recent} and set(archived) == set(old)
    assert history_left == 0
    assert [h["status"] for h in archived[old[0]].context["history"]] == ["queued", "delivered"]
    assert archive_old_messages(rt).moved == 0  # nothing left to do

    recent_only = get(client, tenant, "/v1/messages?from=2026-01-01")
    assert [m["id"] for m in recent_only["items"]] == [recent]
    everything = get(client, tenant, "/v1/messages?from=2024-01-01&limit=10")
    assert everything["includes_archive"] is True
    assert [m["id"] for m in everything["items"]] == [recent, *old, waiting]
    assert [m["archived"] for m in everything["items"]] == [False, True, True, True, False]
    stats = get(client, tenant, "/v1/reports/stats?from=2024-06-01&to=2026-01-31&group=month")
    assert stats["totals"]["messages"] == 5


def test_log_filters_by_flow_name_or_id_and_campaign(rt, client, tenant):
    from tests.support.factories import order_event

    event = order_event("e1", "+375291234567", "processing", "2026-01-15T15:00:00+03:00")
    [msg] = client.post("/v1/events", json=event, headers=tenant["headers"]).get_json()["messages"]
    put(rt, tenant["id"], NOW - timedelta(hours=1), campaign_id=42)
    by_name = get(client, tenant, "/v1/messages?flow=order-processing")
    assert [m["id"] for m in by_name["items"]] == [msg["id"]]
    flow_id = by_name["items"][0]["flow_id"]
    assert [m["id"] for m in get(client, tenant, f"/v1/messages?flow={flow_id}")["items"]] == [
        msg["id"]
    ]
    campaign = get(client, tenant, "/v1/messages?campaign_id=42")["items"]
    assert [m["campaign_id"] for m in campaign] == [42]
    other = make_tenant(rt, "other", "BY")
    resp = client.get("/v1/messages?flow=order-processing", headers=other["headers"])
    assert resp.get_json()["items"] == []  # the other tenant's own flow of that name
