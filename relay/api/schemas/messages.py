"""Schemas of relay.api.messages: one message, the message log and its export, preview."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from relay.api.http import PageQuerySchema
from relay.api.schemas import db_int
from relay.storage.models import MESSAGE_STATUSES

CATEGORIES = ("marketing", "transactional")
CHANNELS = ("sms", "viber")


class MessageFilters(Schema):
    """Message-log filters; times are ISO 8601 or a date (YYYY-MM-DD) in the tenant's zone."""

    class Meta:
        unknown = EXCLUDE

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
    campaign_id = db_int(load_default=None, allow_none=True)
    flow = fields.String(load_default=None, allow_none=True, metadata={"description": "name or id"})
    category = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES)
    )


class MessageQuery(MessageFilters, PageQuerySchema):
    """Message-log filters with `limit` and `cursor`; newest first."""

    class Meta(MessageFilters.Meta, PageQuerySchema.Meta):
        unknown = EXCLUDE


class ExportQuery(MessageFilters):
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
    encoding = fields.String(allow_none=True)
    cost = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    flow_id = fields.Integer(allow_none=True)
    template_id = fields.Integer(allow_none=True)
    not_before = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    archived = fields.Boolean()


class HistorySchema(Schema):
    """One status change."""

    status = fields.String()
    reason = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    at = fields.String(metadata={"format": "date-time"})


class MessageDecisionSchema(Schema):
    """A message as the intake decided it."""

    id = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    status = fields.String(metadata={"example": "queued"})
    reason = fields.String(allow_none=True, metadata={"example": "quiet_hours"})
    not_before = fields.String(allow_none=True, metadata={"format": "date-time"})


class MessageDetailSchema(MessageDecisionSchema):
    """GET /v1/messages/<id>: the message with every status change."""

    template = fields.String(allow_none=True)
    template_version = fields.Integer(allow_none=True)
    phone = fields.String()
    category = fields.String()
    sender = fields.String(allow_none=True)
    text = fields.String()
    reason_detail = fields.String(allow_none=True)
    segments = fields.Integer(allow_none=True)
    encoding = fields.String(allow_none=True)
    cost = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    timezones = fields.List(fields.String(), allow_none=True)
    fallback_of = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})
    history = fields.List(fields.Nested(HistorySchema))


class PreviewIn(Schema):
    """POST /v1/messages/preview: a `text` or a saved `template`, rendered with `data`."""

    class Meta:
        unknown = EXCLUDE

    text = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10_000),
        metadata={"example": "{{ customer.name }}, заказ {{ order.number }} собран"},
    )
    template = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    channel = fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))
    data = fields.Dict(
        keys=fields.String(),
        load_default=None,
        allow_none=True,
        metadata={"description": 'values for the template, e.g. {"customer": {"name": …}}'},
    )
    phone = fields.String(
        load_default=None, allow_none=True, metadata={"description": "price for this destination"}
    )

    @validates_schema
    def _text_or_template(self, data: dict[str, Any], **_: object) -> None:
        if not data.get("template") and data.get("text") is None:
            raise ValidationError({"text": ["send 'text' or 'template'"]})


class PreviewOut(Schema):
    """The rendered text, counted and priced; nothing is sent."""

    text = fields.String()
    channel = fields.String()
    encoding = fields.String()
    segments = fields.Integer()
    characters = fields.Integer()
    parts = fields.List(fields.String())
    cost = fields.String()
    currency = fields.String()
    price_basis = fields.String()


class ResolveUnknownIn(Schema):
    """POST /v1/messages/resolve-unknown: an operator's decision on `unknown` messages."""

    class Meta:
        unknown = EXCLUDE

    action = fields.String(
        required=True,
        validate=validate.OneOf(["resend", "fail"]),
        metadata={"description": "`resend`: queue again (may duplicate); `fail`: end them"},
    )
    ids = fields.List(
        fields.String(validate=validate.Length(1, 32)),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"example": ["0123456789abcdef0123456789abcdef"]},
    )
    provider = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    before = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "only messages `unknown` since before this time"},
    )


class ResolveUnknownOut(Schema):
    """The messages the decision changed."""

    action = fields.String()
    count = fields.Integer()
    ids = fields.List(fields.String())
