"""Schemas of relay.api.optout_reviews: the opt-out review queue."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.api.http import PageQuerySchema
from relay.compliance.optout_review import STATUSES
from shared.wire_fields import StrictBoolean


class ReviewQuerySchema(PageQuerySchema):
    """`status` (pending, opt_out, not_opt_out), `limit`, `cursor`."""

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class ReviewSchema(Schema):
    """A reply the recogniser was unsure of, and what a person decided."""

    id = fields.Integer()
    phone = fields.String()
    text = fields.String()
    why = fields.String(allow_none=True)
    inbound_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    decided_by = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    note = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})


class ReviewDecisionSchema(Schema):
    """The decision: was the reply an opt-out?"""

    opt_out = StrictBoolean(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
