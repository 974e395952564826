"""The amoCRM (Kommo) connector: OAuth install, lead-stage webhooks, notes back on the lead.

The relay mounts `create_blueprint(ctx)` at /connectors/amocrm and registers
`create_writeback(ctx)`; jobs find the context with `get_context("amocrm")`.
See docs/connectors/amocrm.md.
"""

from __future__ import annotations

from flask import Blueprint

from shared.connector import ConnectorContext
from shared.writeback import Writeback

PLATFORM = "amocrm"


def create_blueprint(ctx: ConnectorContext) -> Blueprint:
    """The connector's endpoints (install, OAuth redirect, webhooks, settings)."""
    from connectors.amocrm.views import create_blueprint as build

    return build(ctx)


def create_writeback(ctx: ConnectorContext) -> Writeback:
    """Notes on the lead for sent / blocked / failed messages, replies and survey scores."""
    from connectors.amocrm.writeback import AmoWriteback

    return AmoWriteback(ctx)


__all__ = ["PLATFORM", "create_blueprint", "create_writeback"]
