"""Schemas of relay.api.inbound: replies and other inbound messages, the sandbox reply."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class InboundSchema(Schema):
    """One inbound message and what the relay did with it."""

    id = fields.Integer()
    from_ = fields.String(data_key="from", metadata={"example": "+375291234567"})
    to = fields.String()
    text = fields.String()
    kind = fields.String(allow_none=True)
    provider = fields.String()
    routing = fields.String(allow_none=True)
    handled_as = fields.String(allow_none=True, metadata={"example": "opt_out"})
    message_id = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    received_at = fields.String(metadata={"format": "date-time"})


class SandboxInboundIn(Schema):
    """A subscriber's reply, as the sandbox gateway would deliver it."""

    class Meta:
        unknown = EXCLUDE

    from_ = fields.String(data_key="from", required=True, metadata={"example": "+375291234567"})
    text = fields.String(required=True, validate=validate.Length(max=2000))
    to = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class SandboxInboundOut(Schema):
    """The stored inbound message's id (see GET /v1/inbound)."""

    id = fields.Integer()
