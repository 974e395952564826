"""Schemas of relay.api.providers: gateway accounts (operator)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.wire_fields import StrictBoolean


class ProviderSaveSchema(Schema):
    """POST /v1/providers: create or replace a gateway account."""

    name = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.\-]{1,100}$"))
    type = fields.String(required=True)
    config = fields.Dict(keys=fields.String(), required=True)
    enabled = StrictBoolean(load_default=True)


class ProviderSchema(Schema):
    """A gateway account; credentials masked as ***."""

    name = fields.String()
    type = fields.String()
    enabled = fields.Boolean()
    config = fields.Dict()
    callback_url = fields.String(metadata={"description": "give this to the gateway"})


class ProviderCheckSchema(Schema):
    """The answer of the gateway's balance or auth call."""

    name = fields.String()
    type = fields.String()
    ok = fields.Boolean()
    result = fields.Dict()
