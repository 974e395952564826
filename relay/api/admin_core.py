"""Admin API blueprint (admin_core): tenants, keys, audit, settings, sender names, gateways,
templates, flows — and the OpenAPI document at /openapi.json.

The routes live in admin_core_operator (operator token), admin_core_account (a tenant's own
account) and admin_core_content (templates and flows); importing them attaches them to `bp`.
"""

from __future__ import annotations

from flask import g
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import IntegrityError

from relay.api import admin_core_account, admin_core_content, admin_core_operator
from relay.api.admin_core_common import bp
from relay.api.errors import error_response
from relay.api.openapi import openapi_json

__all__ = ["admin_core_account", "admin_core_content", "admin_core_operator", "bp"]


@bp.record_once
def _serve_openapi(state: BlueprintSetupState) -> None:
    """/openapi.json lives outside /v1 and needs no key: it holds no tenant data."""
    state.app.add_url_rule("/openapi.json", "openapi_json", openapi_json, methods=["GET"])


@bp.errorhandler(IntegrityError)
def _unique_race(_exc: IntegrityError):  # type: ignore[no-untyped-def]
    """A flush that lost a unique-key race with a concurrent request: 409, nothing written."""
    session = g.get("db")
    if session is not None:
        session.rollback()
    return error_response(
        "conflict", "a concurrent change made this one impossible; read and retry", 409
    )
