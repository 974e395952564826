"""Setting up a store: `POST /connectors/woocommerce/installations` (see blueprint).

The store owner authenticates with a relay API key that has the admin scope; the store is
linked to that key's tenant. On first install the WooCommerce default flows are loaded into the
tenant; later calls (new keys, a new secret, other settings) leave the tenant's flows alone,
because the owner may have edited them.
"""

from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass
from typing import Any

import phonenumbers
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from connectors.woocommerce.flows import default_flows
from connectors.woocommerce.mapping import PLATFORM
from connectors.woocommerce.state import ORDER_STATE
from connectors.woocommerce.stores import normalise_store_url
from shared.connector import ConnectorContext
from shared.installations import Installation

_KEY = validate.Length(1, 255)


class SettingsSchema(Schema):
    """Per-store settings the owner may change."""

    class Meta:
        unknown = EXCLUDE

    order_notes = fields.Boolean(load_default=True)
    cart_delay_minutes = fields.Integer(load_default=60, validate=validate.Range(0, 7 * 24 * 60))


class InstallSchema(Schema):
    """The body of POST /installations."""

    class Meta:
        unknown = EXCLUDE

    store_url = fields.String(required=True, validate=validate.Length(1, 255))
    webhook_secret = fields.String(load_default=None, validate=validate.Length(8, 255))
    consumer_key = fields.String(required=True, validate=_KEY)
    consumer_secret = fields.String(required=True, validate=_KEY)
    default_region = fields.String(load_default=None, validate=validate.Length(2, 2))
    settings = fields.Nested(SettingsSchema, load_default=lambda: SettingsSchema().load({}))

    @validates("store_url")
    def _url(self, value: str, **_: Any) -> None:
        try:
            normalise_store_url(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    @validates("default_region")
    def _region(self, value: str | None, **_: Any) -> None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError("must be an ISO 3166-1 country code such as BY, RU or KZ")


class InstallError(Exception):
    """A refused installation: `code`, HTTP `status`, per-field messages."""

    def __init__(
        self, code: str, message: str, status: int, fields_: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, status, fields_ or {}


@dataclass(frozen=True)
class InstallResult:
    """What the owner needs next: where WooCommerce must deliver, with which secret."""

    installation: Installation
    created: bool
    generated_secret: str | None


def install(ctx: ConnectorContext, tenant_id: str, body: Any) -> InstallResult:
    """Create or update the store's installation for `tenant_id`; raises InstallError."""
    if not isinstance(body, dict):
        raise InstallError("invalid_body", "the body must be a JSON object", 400)
    try:
        data = InstallSchema().load(body)
    except ValidationError as exc:
        raise InstallError(
            "validation_error",
            "the installation is not valid: see fields",
            422,
            exc.normalized_messages(),
        ) from None
    account = normalise_store_url(data["store_url"])
    existing = ctx.store.get(PLATFORM, account)
    if existing is not None and existing.tenant_id != tenant_id:
        raise InstallError(
            "store_taken",
            "this store is installed for another tenant",
            409,
            {"store_url": ["already installed for another tenant"]},
        )
    generated = None
    secret = data["webhook_secret"]
    if secret is None:
        secret = existing.secrets.get("webhook_secret") if existing else None
    if secret is None:
        secret = generated = pysecrets.token_urlsafe(32)
    secrets = dict(existing.secrets) if existing else {}
    secrets.update(
        webhook_secret=secret,
        consumer_key=data["consumer_key"],
        consumer_secret=data["consumer_secret"],
    )
    secrets.setdefault(ORDER_STATE, {})
    settings = dict(existing.settings) if existing else {}
    settings.update(data["settings"])
    region = data["default_region"]
    if region:
        settings["default_region"] = region.upper()
    installation = Installation(
        tenant_id=tenant_id,
        platform=PLATFORM,
        account=account,
        settings=settings,
        secrets=secrets,
        status="active",
    )
    saved = ctx.store.save(installation)
    if existing is None:
        ctx.tenants.load_flows(tenant_id, default_flows(settings["cart_delay_minutes"]))
    return InstallResult(saved, existing is None, generated)


def describe(ctx: ConnectorContext, installation: Installation) -> dict[str, Any]:
    """The installation as shown to its owner (never the secrets)."""
    return {
        "account": installation.account,
        "store_url": installation.account,
        "tenant_id": installation.tenant_id,
        "status": installation.status,
        "webhook_url": ctx.url_for("webhook"),
        "topics": ["order.created", "order.updated", "order.deleted", "order.restored"],
        "api_version": "wp_api_v3",
        "settings": {k: v for k, v in installation.settings.items()},
    }
