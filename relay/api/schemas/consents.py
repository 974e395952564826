"""Schemas of relay.api.consents: the consent ledger."""

from __future__ import annotations

import ipaddress

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from relay.api.http import PageQuerySchema
from relay.api.schemas.imports import UploadFormSchema
from shared.events import CONSENT_SOURCES
from shared.wire_fields import StrictBoolean

CONSENT_CHANNELS = ("sms", "viber", "all")


def _ip(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise ValidationError("not an IPv4 or IPv6 address") from exc


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class ConsentBodySchema(Schema):
    """One grant or revocation; `wording` is required for a grant."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    granted = StrictBoolean(required=True)
    channel = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CONSENT_CHANNELS)
    )
    source = fields.String(required=True, validate=validate.OneOf(CONSENT_SOURCES))
    purpose = fields.String(load_default="marketing", validate=validate.OneOf(("marketing",)))
    wording = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=10_000)
    )
    ip = fields.String(load_default=None, allow_none=True, validate=_ip)
    user_agent = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=1024)
    )
    captured_at = fields.AwareDateTime(load_default=None, allow_none=True)


class ConsentRecordSchema(Schema):
    """One ledger record."""

    id = fields.Integer()
    phone = fields.String()
    purpose = fields.String()
    channel = fields.String()
    granted = fields.Boolean()
    source = fields.String()
    wording = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    captured_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    recorded_at = fields.String(metadata={"format": "date-time"})


class ConsentQuerySchema(PageQuerySchema):
    """`phone` (any spelling) narrows to one number, `source` to one way of collecting."""

    phone = fields.String(load_default=None)
    source = fields.String(load_default=None, validate=validate.OneOf(CONSENT_SOURCES))


class ConsentStateSchema(Schema):
    """The record in force for one channel."""

    granted = fields.Boolean()
    record = fields.Nested(ConsentRecordSchema)


class ConsentCurrentQuerySchema(_Loose):
    """The number (any spelling the tenant's region allows)."""

    phone = fields.String(required=True, metadata={"example": "+375291234567"})


class ConsentCurrentSchema(Schema):
    """The record in force per channel for one number (null: none)."""

    phone = fields.String()
    current = fields.Dict(
        keys=fields.String(), values=fields.Nested(ConsentStateSchema, allow_none=True)
    )


class EvidenceQuerySchema(_Loose):
    """The number, and the format of the evidence."""

    phone = fields.String(required=True)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class EvidenceMessageSchema(Schema):
    """A marketing message sent while a grant was in force."""

    id = fields.String()
    channel = fields.String()
    status = fields.String()
    sender = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    text = fields.String()
    sent_at = fields.String(metadata={"format": "date-time"})


class EvidenceRecordSchema(ConsentRecordSchema):
    """A record with the event that brought it and the messages that relied on it."""

    event_id = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(EvidenceMessageSchema))


class EvidenceSchema(Schema):
    """Consent evidence for one number (format=json; csv and xlsx carry the same facts)."""

    phone = fields.String()
    tenant = fields.Dict()
    generated_at = fields.String(metadata={"format": "date-time"})
    current = fields.Dict()
    records = fields.List(fields.Nested(EvidenceRecordSchema))
    messages_without_grant = fields.List(fields.Nested(EvidenceMessageSchema))


class ConsentImportFormSchema(UploadFormSchema):
    """The wording shown to these people is required; rows may override granted/channel."""

    wording = fields.String(required=True, validate=validate.Length(1, 10_000))
    channel = fields.String(load_default=None, validate=validate.OneOf(CONSENT_CHANNELS))
    granted = fields.Boolean(load_default=True)
