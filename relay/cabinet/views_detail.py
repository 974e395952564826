"""Detail: the message log by period, phone, status, sender, mailing and channel (the use case
of GET /v1/messages, cursor pages), each message with its decision reasons and status
history, the SMS-per-operator and Viber-per-traffic-type summaries, the archive (older than
12 months) and the export (csv, xlsx). Another store's message is the 404 page."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.insight import when
from relay.cabinet.mailing_texts import reason_text
from relay.cabinet.security import login_required, rt
from relay.cabinet.texts import error_text
from relay.errors import RelayError
from relay.reporting.message_log import (
    ARCHIVE_AFTER,
    LogFilter,
    build_filter,
    fetch_page,
    operator_summary,
    row_dict,
    tenant_message,
    traffic_summary,
)
from relay.reporting.report_files import XLSX_TYPE, csv_chunks, file_chunks, xlsx_file
from relay.tenancy.tenant_phones import tenant_phone
from shared.event_model import CHANNELS
from shared.writeback import MESSAGE_STATUSES

MESSAGE_STATUS_NAMES = {
    "scheduled": _l("scheduled"),
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "read": _l("read"),
    "undelivered": _l("undelivered"),
    "failed": _l("failed"),
    "expired": _l("expired"),
    "blocked": _l("blocked"),
    "cancelled": _l("cancelled"),
    "unknown": _l("unknown"),
}
CHANNEL_NAMES = {"sms": "SMS", "viber": "Viber"}
TRAFFIC_NAMES = {"marketing": _l("advertising"), "transactional": _l("service")}
STATUS_KIND = {
    "delivered": "ok", "read": "ok", "sent": "ok",
    "blocked": "danger", "failed": "danger", "undelivered": "danger", "expired": "danger",
}  # fmt: skip
FILTER_ERRORS = {
    "from": _l("Enter the start of the period as a date, for example 2026-01-31."),
    "to": _l("Enter the end of the period as a date after its start, for example 2026-01-31."),
    "phone": _l("This is not a phone number we can use. Write it with the country code."),
    "status": _l("Choose a status from the list."),
    "channel": _l("Choose a channel from the list."),
    "mailing": _l("A mailing is given by its number."),
    "format": _l("Choose csv or xlsx."),
    "group": _l("Choose days, weeks or months."),
    "cursor": _l("This page link is not valid any more: start again from the first page."),
}
PAGE = 50
FILTER_KEYS = ("from", "to", "phone", "status", "sender", "mailing", "channel", "archive")


def _bad(field: str, message: str) -> RelayError:
    return RelayError("invalid_filter", message, 400, {field: [message]})


def _args() -> dict[str, str]:
    return {k: request.args.get(k, "").strip()[:200] for k in FILTER_KEYS}


def _filter(args: dict[str, str]) -> LogFilter:
    """The use case's LogFilter from the page's query string; 400 with the field it names."""
    tenant = g.tenant
    zone = ZoneInfo(tenant.timezone)
    now = rt().now()
    query: dict[str, Any] = {"from_": args["from"], "to": args["to"]}
    if args["status"]:
        if args["status"] not in MESSAGE_STATUSES:
            raise _bad("status", "unknown status")
        query["status"] = args["status"]
    if args["channel"]:
        if args["channel"] not in CHANNELS:
            raise _bad("channel", "unknown channel")
        query["channel"] = args["channel"]
    if args["mailing"]:
        if not args["mailing"].isdigit():
            raise _bad("mailing", "not a mailing number")
        query["campaign_id"] = int(args["mailing"])
    query["sender"] = args["sender"] or None
    try:
        phone = tenant_phone(tenant, args["phone"], "phone") if args["phone"] else None
        f = build_filter(g.db, tenant.id, zone, query, phone, now)
    except RelayError as exc:
        raise RelayError("invalid_filter", exc.message, 400, exc.fields) from exc
    if args["archive"]:  # older than 12 months: the archive table with the oldest live rows
        cut = now - ARCHIVE_AFTER
        end = min(f.end, cut) if f.end else cut
        f = dataclasses.replace(f, end=end, include_archive=True)
        if f.start is not None and f.start >= end:
            raise _bad("from", "the archive holds messages older than 12 months")
    return f


def filter_errors(exc: RelayError) -> dict[str, str]:
    """{field: sentence} for the filter form; `_form` for what no field shows."""
    field = next((f for f in exc.fields if f in FILTER_ERRORS), None)
    if field is None:
        return {"_form": error_text(exc)}
    key = field if field in FILTER_KEYS else "_form"
    return {key: str(FILTER_ERRORS[field])}


def _default_from() -> str:
    zone = ZoneInfo(g.tenant.timezone)
    today = rt().now().astimezone(zone).date()
    return str((today - timedelta(days=29)).isoformat())


@bp.get("/detail", endpoint="detail")
@login_required
def detail():  # type: ignore[no-untyped-def]
    wanted = request.args.get("id", "").strip()[:64]
    if wanted:
        return redirect(url_for("cabinet.message_detail", message_id=wanted))
    args = _args()
    if not request.args:  # the first visit: the last 30 days, not the whole history
        args["from"] = _default_from()
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    nxt = None
    operators: list[dict[str, Any]] = []
    traffic: list[dict[str, Any]] = []
    status = 200
    try:
        f = _filter(args)
        page_rows, nxt = fetch_page(g.db, f, PAGE, request.args.get("cursor") or None)
        rows = [row_dict(r) for r in page_rows]
        operators = operator_summary(g.db, f)
        traffic = traffic_summary(g.db, f)
    except RelayError as exc:
        g.db.rollback()
        errors = filter_errors(exc)
        status = 400
    query: dict[str, Any] = {k: v for k, v in args.items() if v}
    return (
        render_template(
            "cabinet/detail.html",
            active="detail",
            args=args,
            reason_text=reason_text,
            errors=errors,
            rows=rows,
            operators=operators,
            traffic=traffic,
            next_url=url_for("cabinet.detail", **query, cursor=nxt) if nxt else None,
            prev_url=url_for("cabinet.detail", **query) if request.args.get("cursor") else None,
            export_query=query,
            status_choices=[("", _l("any"))] + list(MESSAGE_STATUS_NAMES.items()),
            channel_choices=[("", _l("any"))] + [(c, CHANNEL_NAMES[c]) for c in CHANNELS],
            status_names=MESSAGE_STATUS_NAMES,
            status_kind=STATUS_KIND,
            traffic_names=TRAFFIC_NAMES,
            channel_names=CHANNEL_NAMES,
            local_time=when,
        ),
        status,
    )


@bp.get("/detail/export")
@login_required
def detail_export():  # type: ignore[no-untyped-def]
    """Every message of the filters, oldest first (the report-files use case)."""
    args = _args()
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise _bad("format", "csv or xlsx")
    f = _filter(args)
    zone = ZoneInfo(g.tenant.timezone)
    if fmt == "xlsx":
        path = xlsx_file(rt(), f, zone, True)
        resp = Response(file_chunks(path), mimetype=XLSX_TYPE, direct_passthrough=True)
    else:
        resp = Response(stream_with_context(csv_chunks(rt(), f, zone, True)))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="messages.{fmt}"'
    return resp


@bp.get("/detail/<message_id>", endpoint="message_detail")
@login_required
def message_page(message_id: str):  # type: ignore[no-untyped-def]
    msg = tenant_message(g.db, g.tenant.id, message_id[:64])
    return render_template(
        "cabinet/message_detail.html",
        active="detail",
        msg=msg,
        reason_text=reason_text,
        status_names=MESSAGE_STATUS_NAMES,
        status_kind=STATUS_KIND,
        traffic_names=TRAFFIC_NAMES,
        channel_names=CHANNEL_NAMES,
        local_time=when,
    )
