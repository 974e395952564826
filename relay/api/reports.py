"""Message log, detail export and statistics (scope `messages:read`; `admin` passes too).

Mounted under the admin_campaigns blueprint (so the app factory needs no change): the
endpoints are `admin_campaigns.reports.*`, the paths /v1/messages, /v1/messages/export and
/v1/reports/stats. Only the key's own tenant is ever queried.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from relay.api.admin_campaigns_schemas import (
    ExportQuery,
    MessageList,
    MessageQuery,
    StatsOut,
    StatsQuery,
    load,
)
from relay.api.auth import require_scope
from relay.api.common import db, runtime
from relay.api.spec import documented
from relay.campaigns.campaigns import normalise_phone
from relay.reporting.message_log import LogFilter, build_filter, fetch_page, parse_time, row_dict
from relay.reporting.report_files import XLSX_TYPE, csv_chunks, file_chunks, xlsx_file
from relay.reporting.reports import default_period, stats

bp = Blueprint("reports", __name__)
TAGS = ("messages",)


def _filter(args: dict[str, Any]) -> LogFilter:
    tenant = g.tenant
    phone = normalise_phone(tenant, args.get("phone"), "phone")
    return build_filter(db(), tenant.id, ZoneInfo(tenant.timezone), args, phone, runtime().now())


def export_response(
    rt: Any, f: LogFilter, zone: ZoneInfo, fmt: str, basename: str, oldest_first: bool = False
) -> Response:
    """A streamed CSV or XLSX download of the messages matching `f`."""
    if fmt == "xlsx":
        path = xlsx_file(rt, f, zone, oldest_first)
        resp = Response(file_chunks(path), mimetype=XLSX_TYPE, direct_passthrough=True)
        name = f"{basename}.xlsx"
    else:
        resp = Response(stream_with_context(csv_chunks(rt, f, zone, oldest_first)))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        name = f"{basename}.csv"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/messages")
@documented("Search the message log", tags=TAGS, query=MessageQuery, response=MessageList)
@require_scope("messages:read")
def list_messages():  # type: ignore[no-untyped-def]
    """Newest first, with a stable cursor; archived rows are included when `from` reaches
    back past 12 months (or is absent)."""
    args = load(MessageQuery(), request.args.to_dict())
    f = _filter(args)
    rows, nxt = fetch_page(db(), f, args["limit"], args["cursor"])
    return jsonify(
        {
            "messages": [row_dict(r) for r in rows],
            "next_cursor": nxt,
            "includes_archive": f.include_archive,
        }
    )


@bp.get("/messages/export")
@documented(
    "Export the message log (csv or xlsx)",
    tags=TAGS,
    query=ExportQuery,
    content_type="text/csv",
)
@require_scope("messages:read")
def export_messages():  # type: ignore[no-untyped-def]
    """Every message matching the filters, streamed, oldest first."""
    args = load(ExportQuery(), request.args.to_dict())
    f = _filter(args)
    zone = ZoneInfo(g.tenant.timezone)
    return export_response(runtime(), f, zone, args["format"], "messages", oldest_first=True)


@bp.get("/reports/stats")
@documented(
    "Statistics by day, week or month", tags=("reports",), query=StatsQuery, response=StatsOut
)
@require_scope("messages:read")
def get_stats():  # type: ignore[no-untyped-def]
    """Counts per status, channel, destination operator and category; segments and spend.
    Default period: the last 30 local days."""
    args = load(StatsQuery(), request.args.to_dict())
    zone = ZoneInfo(g.tenant.timezone)
    now = runtime().now()
    end = parse_time(args.get("to"), zone, "to", end=True) or now
    start = parse_time(args.get("from_"), zone, "from") or default_period(zone, end)[0]
    return jsonify(stats(db(), g.tenant.id, zone, start, end, args["group"]))
