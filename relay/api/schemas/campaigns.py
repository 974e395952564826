"""Schemas of relay.api.campaigns: they check the shape of what comes in (the services
check its meaning) and describe both directions for the OpenAPI document."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from relay.api.http import PageQuerySchema
from relay.api.schemas import db_int
from relay.campaigns.campaigns import STATUSES
from relay.campaigns.schedule import KINDS, RECURRENCES

CATEGORIES = ("marketing", "transactional")
CHANNELS = ("sms", "viber")


class PaceSchema(Schema):
    """N messages per M minutes."""

    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=7 * 24 * 60))


class SegmentSchema(Schema):
    """A part of a book: field filters and/or today's birthdays."""

    book_id = db_int(required=True)
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
    book_id = db_int(allow_none=True)
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
    variants = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        allow_none=True,
        validate=validate.Length(min=2, max=4),
        metadata={"description": "A/B test: 2–4 template names, `template` among them"},
    )
    test_share = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=99),
        metadata={"description": "percent of the book in the test; the winner goes to the rest"},
    )
    local_time = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        metadata={"description": "HH:MM: release each recipient at this time in their zone"},
    )
    local_until = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        metadata={
            "description": "HH:MM: with local_time, a window on each recipient's clock; paced "
            "messages that do not fit go on the next day's window"
        },
    )
    best_hour = fields.Boolean(
        metadata={
            "description": "release a recipient with enough clicks/reads at the hour they most "
            "often click or read (inside the window, if one is set); needs local_time"
        }
    )


class CampaignOut(CampaignIn):
    """A campaign as shown."""

    id = fields.Integer()
    status = fields.String()
    winner = fields.String(allow_none=True)
    next_run_at = fields.String(allow_none=True)
    progress = fields.Dict(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class CampaignQuery(PageQuerySchema):
    """Newest first; `status` narrows to one state."""

    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STATUSES))


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
    run = fields.String(allow_none=True, metadata={"description": "the current run's time"})
    runs = fields.Integer(metadata={"description": "runs so far (recurring campaigns)"})
    next_run_at = fields.String(allow_none=True)


class FormatQuery(Schema):
    """A file export's format."""

    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class WinnerIn(Schema):
    """The variant (a template name of the campaign's `variants`) to send to the rest."""

    template = fields.String(required=True, validate=validate.Length(min=1, max=100))


class RateOut(Schema):
    """A proportion with its Wilson 95 % interval."""

    value = fields.Float()
    low = fields.Float()
    high = fields.Float()


class FiguresOut(Schema):
    """Counts, money (decimal strings) and rates of a mailing or one of its variants."""

    messages = fields.Integer()
    sent = fields.Integer()
    delivered = fields.Integer()
    clicked = fields.Integer()
    clicks = fields.Integer()
    orders = fields.Integer()
    carts_recovered = fields.Integer()
    revenue = fields.String()
    cost = fields.String()
    currency = fields.String(allow_none=True)
    revenue_per_1000 = fields.String(allow_none=True)
    click_rate = fields.Nested(RateOut, allow_none=True)
    conversion_rate = fields.Nested(RateOut, allow_none=True)


class VariantOut(FiguresOut):
    """One A/B variant."""

    variant = fields.String()
    template = fields.String()


class ResultsOut(Schema):
    """GET /v1/campaigns/<id>/results."""

    campaign_id = fields.Integer()
    total = fields.Nested(FiguresOut)
    variants = fields.List(fields.Nested(VariantOut))
    test_share = fields.Integer(allow_none=True)
    winner = fields.String(allow_none=True)


class FlowResultsOut(FiguresOut):
    """One flow's figures (GET /v1/reports/flows)."""

    flow = fields.String()
    trigger = fields.String()
