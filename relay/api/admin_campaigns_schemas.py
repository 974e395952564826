"""Marshmallow schemas of the campaign, message-log and report endpoints.

They check the shape of what comes in (the services check its meaning) and describe both
directions for the generated OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from relay.campaigns.campaigns import STATUSES
from relay.campaigns.schedule import KINDS, RECURRENCES
from relay.errors import RelayError
from relay.storage.models import MESSAGE_STATUSES

CATEGORIES = ("marketing", "transactional")
CHANNELS = ("sms", "viber")
MAX_LIMIT = 500


def load(schema: Schema, data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate `data`; a RelayError 422 `validation_error` with per-field messages if bad."""
    if not isinstance(data, dict):
        raise RelayError("invalid_body", "the body must be a JSON object", 400)
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise RelayError(
            "validation_error",
            "the request is not valid: see fields",
            422,
            exc.normalized_messages(),
        ) from exc


class PaceSchema(Schema):
    """N messages per M minutes."""

    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=7 * 24 * 60))


class SegmentSchema(Schema):
    """A part of a book: field filters and/or today's birthdays."""

    book_id = fields.Integer(required=True)
    filters = fields.Dict(
        keys=fields.String(),
        load_default=None,
        metadata={"description": 'e.g. {"fields.city": "Минск"}; a list value means any of'},
    )
    birthday_today = fields.Boolean(load_default=False)


class CampaignIn(Schema):
    """A campaign as created (POST) or changed while a draft (PATCH, every field optional)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(KINDS), load_default="campaign")
    book_id = fields.Integer(allow_none=True)
    segment = fields.Nested(SegmentSchema, allow_none=True)
    template = fields.String(required=True, validate=validate.Length(min=1, max=100))
    sender = fields.String(allow_none=True, validate=validate.Length(min=1, max=32))
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        validate=validate.Length(min=1, max=2),
        metadata={"description": '["sms"], ["viber"] or ["viber", "sms"] (SMS fallback)'},
    )
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    start_at = fields.String(
        allow_none=True,
        metadata={"description": "local time in the tenant's zone, or ISO 8601 with offset"},
    )
    recurrence = fields.String(validate=validate.OneOf(RECURRENCES))
    greeting_date = fields.String(allow_none=True, metadata={"description": "MM-DD (kind=date)"})
    pace = fields.Nested(PaceSchema, allow_none=True)
    test_phone = fields.String(allow_none=True)


class CampaignOut(CampaignIn):
    """A campaign as shown."""

    id = fields.Integer()
    status = fields.String()
    next_run_at = fields.String(allow_none=True)
    progress = fields.Dict(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class ListQuery(Schema):
    """Paging of a list: newest first, `cursor` is the last id of the previous page."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.Integer(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STATUSES))


class CampaignList(Schema):
    """A page of campaigns."""

    campaigns = fields.List(fields.Nested(CampaignOut))
    next_cursor = fields.Integer(allow_none=True)


class TestSendIn(Schema):
    """Where a test goes (default: the campaign's test_phone) and optional sample data."""

    phone = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class MessageSummary(Schema):
    """A message's id and decision."""

    id = fields.String()
    channel = fields.String()
    status = fields.String()
    reason = fields.String(allow_none=True)
    not_before = fields.String(allow_none=True)
    phone = fields.String()
    text = fields.String()


class ProgressOut(Schema):
    """Counts per status, planned total, sent so far and the ETA."""

    campaign_id = fields.Integer()
    status = fields.String()
    phase = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    planned = fields.Integer()
    sent = fields.Integer()
    delivered = fields.Integer()
    blocked = fields.Integer()
    blocked_by_reason = fields.Dict()
    remaining = fields.Integer()
    paused = fields.Integer()
    not_yet_planned = fields.Integer()
    eta = fields.String(allow_none=True)
    eta_if_resumed_now = fields.String(allow_none=True)
    complete = fields.Boolean()


class FormatQuery(Schema):
    """A file export's format."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class MessageQuery(Schema):
    """Message-log filters; times are ISO 8601 or a date (YYYY-MM-DD) in the tenant's zone."""

    from_ = fields.String(data_key="from", load_default=None, allow_none=True)
    to = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    status = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": f"one or more (comma-separated) of {list(MESSAGE_STATUSES)}"},
    )
    sender = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))
    campaign_id = fields.Integer(load_default=None, allow_none=True)
    flow = fields.String(load_default=None, allow_none=True, metadata={"description": "name or id"})
    category = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES)
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, allow_none=True)


class ExportQuery(MessageQuery):
    """Message-log filters plus the file format."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class MessageRow(Schema):
    """One message in the log."""

    id = fields.String()
    phone = fields.String()
    channel = fields.String()
    category = fields.String()
    sender = fields.String(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    reason_detail = fields.String(allow_none=True)
    text = fields.String()
    segments = fields.Integer()
    cost = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    flow_id = fields.Integer(allow_none=True)
    template_id = fields.Integer(allow_none=True)
    not_before = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    archived = fields.Boolean()


class MessageList(Schema):
    """A page of the message log, newest first."""

    messages = fields.List(fields.Nested(MessageRow))
    next_cursor = fields.String(allow_none=True)
    includes_archive = fields.Boolean()


class StatsQuery(Schema):
    """The period and bucket size of the statistics."""

    from_ = fields.String(data_key="from", load_default=None, allow_none=True)
    to = fields.String(load_default=None, allow_none=True)
    group = fields.String(load_default="day", validate=validate.OneOf(("day", "week", "month")))


class StatsOut(Schema):
    """Counts per status, channel, destination operator and category; segments and spend."""

    period = fields.Dict()
    group = fields.String()
    timezone = fields.String()
    totals = fields.Dict()
    by_operator = fields.List(fields.Dict())
    buckets = fields.List(fields.Dict())
