"""Gateway accounts (the operator, RELAY_ADMIN_TOKEN): credentials stored encrypted and shown
masked; `callback_url` is what to give the gateway. Every change is audited."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    PageQuerySchema,
    blueprint,
    commit,
    db,
    keyset_page,
    load_body,
    load_query,
    operator_only,
    record,
    runtime,
)
from relay.api.schemas.providers import ProviderCheckSchema, ProviderSaveSchema, ProviderSchema
from relay.api.spec import documented
from relay.gateways.provider_accounts import (
    check_account,
    find_provider,
    provider_view,
    save_account,
)
from relay.storage.models import Provider

bp = blueprint("providers", __name__)
OPERATOR = ("operator",)


def _view(row: Provider) -> dict[str, Any]:
    rt = runtime()
    return provider_view(row, rt.secrets, rt.config.get("PUBLIC_URL") or "")


@bp.post("/providers")
@documented(
    "Create or replace a gateway account (credentials are stored encrypted, shown masked)",
    tags=OPERATOR,
    body=ProviderSaveSchema,
    example={"name": "smsru-main", "type": "smsru", "config": {"api_id": "0000-SECRET"}},
    response=ProviderSchema,
    status=(201, 200),
)
@operator_only
def save_provider_view() -> ResponseReturnValue:
    """POST /v1/providers."""
    session = db()
    spec = load_body(ProviderSaveSchema())
    old = session.scalar(select(Provider).where(Provider.name == spec["name"]))
    before = _view(old) if old is not None else None
    row = save_account(session, spec, runtime().secrets)
    after = _view(row)
    record("provider.save", "provider", row.name, tenant_id=None, before=before, after=after)
    commit()
    return jsonify(after), 200 if before else 201


@bp.get("/providers")
@documented("List gateway accounts", tags=OPERATOR, query=PageQuerySchema, page=ProviderSchema)
@operator_only
def list_providers_view() -> Response:
    """GET /v1/providers."""
    page = load_query(PageQuerySchema())
    return keyset_page(db(), select(Provider), Provider.name, page, _view)


@bp.get("/providers/<name>")
@documented("A gateway account (credentials masked)", tags=OPERATOR, response=ProviderSchema)
@operator_only
def get_provider_view(name: str) -> Response:
    """GET /v1/providers/<name>."""
    return jsonify(_view(find_provider(db(), name)))


@bp.post("/providers/<name>/check")
@documented(
    "Call the gateway's balance or auth endpoint with the stored credentials",
    tags=OPERATOR,
    response=ProviderCheckSchema,
    errors=(422, 502),
)
@operator_only
def check_provider_view(name: str) -> Response:
    """POST /v1/providers/<name>/check."""
    return jsonify(check_account(runtime(), db(), name))
