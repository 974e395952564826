"""Reports: statistics (scope `messages:read`), and the streamed csv/xlsx files of the message
log that relay.api.messages and relay.api.campaigns hand out."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, stream_with_context

from relay.api.http import blueprint, db, load_query, query_faults, runtime, tenant_scope
from relay.api.schemas.reports import StatsOut, StatsQuery
from relay.api.spec import documented
from relay.reporting.message_log import LogFilter
from relay.reporting.report_files import XLSX_TYPE, csv_chunks, file_chunks, xlsx_file
from relay.reporting.reports import stats_for

bp = blueprint("reports", __name__)


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


@bp.get("/reports/stats")
@documented(
    "Statistics by day, week or month", tags=("reports",), query=StatsQuery, response=StatsOut
)
@tenant_scope("messages:read")
def get_stats() -> Response:
    """Counts per status, channel, destination operator and category; segments and spend.
    Default period: the last 30 local days."""
    args = load_query(StatsQuery())
    zone = ZoneInfo(g.tenant.timezone)
    now = runtime().now()
    with query_faults():
        doc = stats_for(
            db(), g.tenant.id, zone, args.get("from_"), args.get("to"), args["group"], now
        )
    return jsonify(doc)
