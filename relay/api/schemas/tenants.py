"""Schemas of relay.api.tenants (the operator's tenants) and the settings they share with
relay.api.settings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.phones import SUPPORTED_REGIONS
from shared.wire_fields import StrictBoolean, text_field, zone_validator

REGIONS = sorted(SUPPORTED_REGIONS)
HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time as HH:MM (00:00–23:59)")


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


class AttributionSchema(Schema):
    """How long an order is credited to a message (docs/architecture.md, 'Growth')."""

    click_days = fields.Integer(strict=True, validate=validate.Range(0, 30))
    delivery_days = fields.Integer(strict=True, validate=validate.Range(0, 30))


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
    consent_source_line = StrictBoolean(
        metadata={
            "description": "end marketing texts with where and when the person agreed, from "
            "the consent ledger ('Вы подписались при оформлении заказа 12.03.2026'), when it "
            "adds no SMS part"
        }
    )
    rate = fields.String(
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "tenant send rate, e.g. '50/second' or '100 per 5 minutes'"},
    )
    api_rate_limit = fields.String(
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "requests per API key of this tenant, e.g. '200/second' (operator "
            "only; default RELAY_RATE_LIMIT_PER_KEY)"
        },
    )
    notification_contacts = fields.Nested(NotificationContactsSchema)
    supported_regions = fields.List(
        fields.String(validate=validate.OneOf(REGIONS)), validate=validate.Length(min=1)
    )
    tracking = StrictBoolean(
        metadata={"description": "replace links in campaign texts by tracked short links"}
    )
    attribution = fields.Nested(AttributionSchema)


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


class TenantProvidersSchema(Schema):
    """PUT /v1/tenants/<id>/providers: names in order of preference (empty: sandbox)."""

    providers = fields.List(fields.String(), required=True, validate=validate.Length(max=20))
