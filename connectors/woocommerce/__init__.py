"""The WooCommerce connector (platform name: woocommerce).

- `create_blueprint(ctx)`: the webhook receiver and store set-up, mounted by the relay at
  /connectors/woocommerce (see `blueprint`);
- `create_writeback(ctx)`: order notes for message statuses and replies (see `writeback`);
- `jobs.process_delivery`: the RQ job that turns a recorded delivery into relay events;
- `standalone.create_app`: the same receiver as its own small app posting to the relay over
  HTTP;
- `plugin/relay-sms`: the WordPress plugin (consent checkbox, abandoned carts).

Imports `shared`, never `relay` (docs/architecture.md, 'Connectors').
"""

from __future__ import annotations

from flask import Blueprint

from connectors.woocommerce.blueprint import create_blueprint as _create_blueprint
from connectors.woocommerce.mapping import PLATFORM
from connectors.woocommerce.writeback import WooCommerceWriteback
from shared.connector import ConnectorContext, set_context


def create_blueprint(ctx: ConnectorContext) -> Blueprint:
    """The blueprint for /connectors/woocommerce; registers `ctx` for this process's jobs."""
    set_context(ctx)
    return _create_blueprint(ctx)


def create_writeback(ctx: ConnectorContext) -> WooCommerceWriteback:
    """The write-back the relay calls after message status changes."""
    return WooCommerceWriteback(ctx)


__all__ = ["PLATFORM", "create_blueprint", "create_writeback"]
