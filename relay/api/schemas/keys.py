"""Schemas of relay.api.keys (and of the operator's /v1/tenants/<id>/keys)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.tenancy.tenants import SCOPES


class KeyCreateSchema(Schema):
    """POST /v1/keys and /v1/tenants/<id>/keys."""

    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        required=True,
        validate=validate.Length(min=1),
    )
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class KeySchema(Schema):
    """A key as listed: the prefix only, never the key or its hash."""

    id = fields.String()
    tenant_id = fields.String()
    prefix = fields.String()
    name = fields.String(allow_none=True)
    scopes = fields.List(fields.String())
    created_at = fields.String()
    revoked_at = fields.String(allow_none=True)


class KeyCreatedSchema(KeySchema):
    """A new key: `key` is shown this once."""

    key = fields.String()
