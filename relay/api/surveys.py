"""NPS surveys: create one (scope `admin`; a flow sends it with "survey": <name>) and read its
report (`messages:read`) as JSON or as a csv/xlsx download of the answers."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from relay.api.http import (
    PageQuerySchema,
    bad_body,
    blueprint,
    db,
    fail,
    keyset_page,
    load_body,
    load_query,
    record,
    tenant_scope,
)
from relay.api.schemas.surveys import SurveyIn, SurveyOut, SurveyReportQuery, SurveyReportSchema
from relay.api.spec import documented
from relay.errors import RelayError
from relay.replies.surveys import survey_report
from relay.storage.models import Survey

bp = blueprint("surveys", __name__)
TAGS = ("surveys",)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.post("/surveys")
@documented(
    'Create an NPS survey (a flow sends it with "survey": <name>)',
    tags=TAGS,
    body=SurveyIn,
    example={
        "name": "nps-after-delivery",
        "window_hours": 72,
        "followup_text": "Что нам улучшить?",
        "thanks_text": "Спасибо за ответ!",
    },
    response=SurveyOut,
    status=201,
    errors=(409,),
)
@tenant_scope("admin")
def create_survey() -> ResponseReturnValue:
    """name, window_hours (default 72), followup_text (asked of 0–6), thanks_text."""
    body = load_body(SurveyIn())
    name = body["name"].strip()
    if not name:
        bad_body("the body has invalid fields", {"name": ["required"]})
    session = db()
    survey = Survey(
        tenant_id=g.tenant.id,
        name=name,
        window_hours=body["window_hours"],
        followup_text=body["followup_text"],
        thanks_text=body["thanks_text"],
    )
    session.add(survey)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise RelayError("survey_exists", f"a survey named {name!r} exists", 409) from exc
    record(
        "survey.create",
        "survey",
        survey.id,
        tenant_id=g.tenant.id,
        after={"name": name, "window_hours": survey.window_hours},
    )
    session.commit()
    return jsonify(_survey_view(survey)), 201


@bp.get("/surveys")
@documented("The tenant's NPS surveys, by id", tags=TAGS, query=PageQuerySchema, page=SurveyOut)
@tenant_scope("messages:read")
def list_surveys() -> ResponseReturnValue:
    """GET /v1/surveys."""
    page = load_query(PageQuerySchema())
    stmt = select(Survey).where(Survey.tenant_id == g.tenant.id)
    return keyset_page(db(), stmt, Survey.id, page, _survey_view, kind=int)


def _survey_view(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "name": survey.name,
        "window_hours": survey.window_hours,
        "followup_text": survey.followup_text,
        "thanks_text": survey.thanks_text,
    }


@bp.get("/surveys/<int:survey_id>/report")
@documented(
    "NPS report: promoters, passives, detractors, NPS, response rate (json|csv|xlsx)",
    tags=TAGS,
    query=SurveyReportQuery,
    response=SurveyReportSchema,
)
@tenant_scope("messages:read")
def report(survey_id: int) -> Response:
    """`?format=csv` or `xlsx` downloads the answers."""
    fmt = load_query(SurveyReportQuery())["format"]
    survey = db().get(Survey, survey_id)
    if survey is None or survey.tenant_id != g.tenant.id:
        fail("survey_not_found", f"no survey {survey_id}", 404)
    data = survey_report(db(), survey)
    if fmt == "json":
        return jsonify(data)
    header = ["phone", "score", "comment", "answered_at", "message_id"]
    rows = [[a[k] for k in header] for a in data["answers"]]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
        writer.writerow(["nps", data["nps"], "response_rate", data["response_rate"]])
        return Response(
            out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=survey-{survey_id}.csv"},
        )
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    summary = book.create_sheet("summary")
    for key in ("responses", "sent", "promoters", "passives", "detractors", "nps", "response_rate"):
        summary.append([key, data[key]])
    buf = io.BytesIO()
    book.save(buf)
    return Response(
        buf.getvalue(),
        headers={"Content-Disposition": f"attachment; filename=survey-{survey_id}.xlsx"},
        mimetype=XLSX_TYPE,
    )
