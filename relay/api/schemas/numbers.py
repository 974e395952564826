"""Schemas of relay.api.numbers: dedicated numbers and short codes (operator)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class NumberIn(Schema):
    """POST /v1/numbers: replies to `number` always go to `tenant_id`."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String(
        required=True, validate=validate.Length(1, 32), metadata={"example": "7020"}
    )
    tenant_id = fields.String(required=True, validate=validate.Length(1, 64))


class NumberOut(Schema):
    """The number and its tenant."""

    number = fields.String()
    tenant_id = fields.String()
