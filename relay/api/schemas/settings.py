"""Schemas of relay.api.settings: a tenant's own settings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.api.schemas.tenants import REGIONS, TenantSettingsSchema
from shared.wire_fields import zone_validator


class SettingsSchema(TenantSettingsSchema):
    """GET/PATCH /v1/settings: the tenant settings plus its store time zone and phone region."""

    timezone = fields.String(validate=zone_validator)
    region = fields.String(validate=validate.OneOf(REGIONS))
    # the operator sets it (PATCH /v1/tenants/<id>); a tenant sees it but cannot raise its own
    api_rate_limit = fields.String(dump_only=True, allow_none=True)


class AccountTenantSchema(Schema):
    """Who a key belongs to."""

    id = fields.String()
    name = fields.String()
    region = fields.String()


class AccountSchema(Schema):
    """GET /v1/account: the caller's tenant (a connector's "test connection")."""

    tenant = fields.Nested(AccountTenantSchema)
