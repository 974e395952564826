"""Schemas of relay.api.surveys: NPS surveys and their reports."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class SurveyIn(Schema):
    """POST /v1/surveys."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    window_hours = fields.Integer(
        strict=True,
        load_default=72,
        validate=validate.Range(1, 24 * 31),
        metadata={"description": "how long an answer counts after the question (1–744)"},
    )
    followup_text = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "asked of detractors (0–6)"},
    )
    thanks_text = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=1000)
    )


class SurveyOut(Schema):
    """A survey."""

    id = fields.Integer()
    name = fields.String()
    window_hours = fields.Integer()
    followup_text = fields.String(allow_none=True)
    thanks_text = fields.String(allow_none=True)


class SurveyReportQuery(Schema):
    """The report's format: json (default), or a csv/xlsx download of the answers."""

    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class AnswerSchema(Schema):
    """One answer."""

    phone = fields.String()
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    answered_at = fields.String(metadata={"format": "date-time"})
    message_id = fields.String(allow_none=True)


class SurveyReportSchema(Schema):
    """Promoters (9–10), passives (7–8), detractors (0–6), NPS and the response rate."""

    survey_id = fields.Integer()
    name = fields.String()
    responses = fields.Integer()
    sent = fields.Integer()
    promoters = fields.Integer()
    passives = fields.Integer()
    detractors = fields.Integer()
    nps = fields.Float(allow_none=True)
    response_rate = fields.Float(allow_none=True)
    answers = fields.List(fields.Nested(AnswerSchema))
