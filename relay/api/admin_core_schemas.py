"""Marshmallow schemas of the admin API's account side: tenants, keys, providers, settings,
sender names and the audit log. They validate requests and describe the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from relay.api.admin_core_common import PageQuerySchema
from relay.tenancy.tenants import SCOPES
from shared.phones import SUPPORTED_REGIONS
from shared.wire_fields import StrictBoolean, UtcDateTime, text_field, zone_validator

REGIONS = sorted(SUPPORTED_REGIONS)
HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time as HH:MM (00:00–23:59)")


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema around `item`, named for OpenAPI."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, metadata={"description": "pass back"}),
        },
        name=name,
    )


class QuietHoursSchema(Schema):
    """Quiet hours in the recipient's local time, e.g. 23:00–07:00."""

    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)


class NotificationContactsSchema(Schema):
    """Where service notices go (a gateway failure, a low balance)."""

    emails = fields.List(fields.Email(), load_default=list, validate=validate.Length(max=20))
    phones = fields.List(
        fields.String(validate=validate.Length(1, 32)),
        load_default=list,
        validate=validate.Length(max=20),
    )


class TenantSettingsSchema(Schema):
    """Policy and service settings kept in the tenant's `settings` (every key optional)."""

    quiet_hours = fields.Nested(QuietHoursSchema)
    transactional_quiet_hours = StrictBoolean(
        metadata={"description": "defer transactional messages in quiet hours too"}
    )
    timezone_mode = fields.String(validate=validate.OneOf(["strict", "store"]))
    frequency_cap = fields.Integer(strict=True, validate=validate.Range(0, 1000))
    frequency_window_days = fields.Integer(strict=True, validate=validate.Range(1, 365))
    optout_footer = fields.String(validate=validate.Length(max=200))
    rate = fields.String(
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "tenant send rate, e.g. '50/second' or '100 per 5 minutes'"},
    )
    notification_contacts = fields.Nested(NotificationContactsSchema)
    supported_regions = fields.List(
        fields.String(validate=validate.OneOf(REGIONS)), validate=validate.Length(min=1)
    )


class SettingsSchema(TenantSettingsSchema):
    """GET/PATCH /v1/settings: the tenant settings plus its store time zone and phone region."""

    timezone = fields.String(validate=zone_validator)
    region = fields.String(validate=validate.OneOf(REGIONS))


class TenantCreateSchema(Schema):
    """POST /v1/tenants."""

    name = text_field(200, required=True)
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    timezone = fields.String(load_default=None, validate=zone_validator)
    settings = fields.Nested(TenantSettingsSchema, load_default=dict)


class TenantPatchSchema(Schema):
    """PATCH /v1/tenants/<id>: any subset."""

    name = text_field(200)
    status = fields.String(validate=validate.OneOf(["active", "disabled"]))
    region = fields.String(validate=validate.OneOf(REGIONS))
    timezone = fields.String(validate=zone_validator)
    settings = fields.Nested(TenantSettingsSchema)


class TenantSchema(Schema):
    """A tenant as the operator sees it."""

    id = fields.String()
    name = fields.String()
    region = fields.String()
    timezone = fields.String()
    status = fields.String()
    settings = fields.Dict()
    providers = fields.List(fields.String(), metadata={"description": "gateways, preferred first"})
    created_at = fields.String()


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


class TenantProvidersSchema(Schema):
    """PUT /v1/tenants/<id>/providers: names in order of preference (empty: sandbox)."""

    providers = fields.List(fields.String(), required=True, validate=validate.Length(max=20))


class SenderCreateSchema(Schema):
    """POST /v1/senders: a tenant requests a name; the operator may also set its state."""

    channel = fields.String(required=True, validate=validate.OneOf(["sms", "viber"]))
    name = fields.String(required=True, validate=validate.Length(1, 32))
    tenant_id = fields.String(metadata={"description": "operator only"})
    state = fields.String(validate=validate.OneOf(["requested", "active", "rejected"]))


class SenderPatchSchema(Schema):
    """PATCH /v1/senders/<id>."""

    state = fields.String(
        required=True, validate=validate.OneOf(["requested", "active", "rejected"])
    )


class SenderSchema(Schema):
    """A sender name and its state."""

    id = fields.Integer()
    tenant_id = fields.String()
    channel = fields.String()
    name = fields.String()
    state = fields.String()
    created_at = fields.String()


class SenderQuerySchema(PageQuerySchema):
    """Filters of GET /v1/senders."""

    tenant_id = fields.String(metadata={"description": "operator only"})
    channel = fields.String(validate=validate.OneOf(["sms", "viber"]))
    state = fields.String(validate=validate.OneOf(["requested", "active", "rejected"]))


class QueryDateTime(UtcDateTime):
    """A query-string time: a '+' of the offset arrives as a space when not URL-encoded."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and " " in value.strip():
            value = value.strip().replace(" ", "+")
        return super()._deserialize(value, attr, data, **kwargs)


class AuditQuerySchema(PageQuerySchema):
    """Filters of GET /v1/audit (newest first)."""

    class Meta:
        unknown = EXCLUDE

    from_ = QueryDateTime(data_key="from", metadata={"description": "at or after (ISO 8601)"})
    to = QueryDateTime(metadata={"description": "before (ISO 8601)"})
    action = fields.String(validate=validate.Length(1, 64))
    target_type = fields.String(validate=validate.Length(1, 32))
    tenant_id = fields.String(metadata={"description": "operator only"})


class AuditEntrySchema(Schema):
    """One admin change."""

    id = fields.Integer()
    tenant_id = fields.String(allow_none=True)
    actor = fields.String()
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    at = fields.String()


TenantPageSchema = page_of(TenantSchema, "TenantPage")
KeyPageSchema = page_of(KeySchema, "KeyPage")
ProviderPageSchema = page_of(ProviderSchema, "ProviderPage")
SenderPageSchema = page_of(SenderSchema, "SenderPage")
AuditPageSchema = page_of(AuditEntrySchema, "AuditPage")
