"""Statistics: messages per day by status, spend per day, per operator (SMS), per traffic type
(Viber), delivery and read rates — the numbers of GET /v1/reports/stats (the same use case),
embedded as JSON for the charts (Chart.js, vendored) and shown as data tables that work without
JavaScript; the NPS trend and each survey's report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.security import login_required, rt
from relay.cabinet.views_detail import FILTER_ERRORS, MESSAGE_STATUS_NAMES, TRAFFIC_NAMES
from relay.cabinet.views_home import money
from relay.errors import RelayError
from relay.replies.surveys import nps_trend, tenant_survey_reports
from relay.reporting.message_log import parse_time
from relay.reporting.reports import BILLED, stats_for

GROUPS = ("day", "week", "month")
GROUP_NAMES = {"day": _l("by day"), "week": _l("by week"), "month": _l("by month")}


def rates(bucket: dict[str, Any]) -> dict[str, float | None]:
    """Delivery rate (delivered or read of what gateways accepted) and read rate (read of
    what was delivered), in percent with one decimal; None when there is nothing to divide."""
    by = bucket["by_status"]
    billed = sum(by.get(s, 0) for s in BILLED)
    delivered = by.get("delivered", 0) + by.get("read", 0)
    return {
        "delivery": round(100 * delivered / billed, 1) if billed else None,
        "read": round(100 * by.get("read", 0) / delivered, 1) if delivered else None,
    }


@bp.get("/statistics", endpoint="statistics")
@login_required
def statistics():  # type: ignore[no-untyped-def]
    zone = ZoneInfo(g.tenant.timezone)
    now = rt().now()
    args = {k: request.args.get(k, "").strip()[:40] for k in ("from", "to", "group")}
    if not args["from"] and not args["to"]:
        args["from"] = (now.astimezone(zone).date() - timedelta(days=29)).isoformat()
    group = args["group"] or "day"
    errors: dict[str, str] = {}
    doc: dict[str, Any] | None = None
    trend: list[dict[str, Any]] = []
    if group not in GROUPS:
        errors["group"] = str(FILTER_ERRORS["group"])
    else:
        try:
            doc = stats_for(g.db, g.tenant.id, zone, args["from"], args["to"], group, now)
            start = parse_time(args["from"], zone, "from")
            trend = nps_trend(g.db, g.tenant.id, zone, start or now - timedelta(days=366), now)
        except RelayError as exc:
            g.db.rollback()
            field = next((f for f in exc.fields if f in ("from", "to")), "from")
            errors[field] = str(FILTER_ERRORS[field])
    statuses = []
    if doc is not None:
        seen = {s for b in doc["buckets"] for s in b["by_status"]}
        statuses = [s for s in MESSAGE_STATUS_NAMES if s in seen]
    chart = None
    if doc is not None:
        chart = {
            "stats": doc,
            "rates": [{"start": b["start"], **rates(b)} for b in doc["buckets"]],
            "nps": trend,
            "labels": {
                "status": {s: str(MESSAGE_STATUS_NAMES[s]) for s in statuses},
                "traffic": {k: str(v) for k, v in TRAFFIC_NAMES.items()},
                "delivery": str(_l("Delivered, percent")),
                "read": str(_l("Read, percent")),
                "messages": str(_l("Messages")),
            },
        }
    return (
        render_template(
            "cabinet/statistics.html",
            active="statistics",
            args={**args, "group": group},
            errors=errors,
            doc=doc,
            chart_data=chart,
            statuses=statuses,
            status_headers=[_l("Period"), *(MESSAGE_STATUS_NAMES[s] for s in statuses), _l("All")],
            status_names=MESSAGE_STATUS_NAMES,
            traffic_names=TRAFFIC_NAMES,
            rates=rates,
            money=money,
            surveys=tenant_survey_reports(g.db, g.tenant.id),
            group_choices=[(x, GROUP_NAMES[x]) for x in GROUPS],
        ),
        400 if errors else 200,
    )
