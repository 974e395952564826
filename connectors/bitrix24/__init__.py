"""Bitrix24 connector: marketplace install, CRM stage events, the relay as the portal's SMS
provider, and write-back to the CRM timeline (docs/connectors/bitrix24.md).

Mounted by the relay at /connectors/bitrix24:

- `POST /install`        install page POST and the ONAPPINSTALL event
- `POST /events`         CRM and app events bound with event.bind
- `POST /sms`            messageservice HANDLER (deal-card SMS and automation robots)
- `POST /settings`       the app's page in the portal (placement POST), `/settings/save`,
  `/settings/test`
"""

from __future__ import annotations

from flask import Blueprint

from shared.connector import ConnectorContext
from shared.writeback import Writeback


def create_blueprint(ctx: ConnectorContext) -> Blueprint:
    """The connector's routes; the relay mounts them under /connectors/bitrix24."""
    from connectors.bitrix24 import settings_view, views

    bp = Blueprint("bitrix24", __name__)
    views.create_routes(ctx, bp)
    settings_view.create_routes(ctx, bp)
    return bp


def create_writeback(ctx: ConnectorContext) -> Writeback:
    """Status, reply and survey write-back to the portal."""
    from connectors.bitrix24.writeback import Bitrix24Writeback

    return Bitrix24Writeback(ctx)
