"""The audit log: every admin change with the state before and after. A tenant key (scope
`admin`) sees its own tenant's entries; the operator token every tenant's (filter with
`tenant_id`)."""

from __future__ import annotations

from flask import Response, g

from relay.api.http import blueprint, db, is_operator, keyset_page, load_query, operator_or_scope
from relay.api.schemas.audit import AuditEntrySchema, AuditQuerySchema
from relay.api.spec import documented
from relay.compliance.audit_query import audit_stmt, audit_view
from relay.storage.models import AuditEntry

bp = blueprint("audit", __name__)
ACCOUNT = ("account",)


@bp.get("/audit")
@documented(
    "Admin changes, newest first (operator: every tenant, filter with tenant_id)",
    tags=ACCOUNT,
    query=AuditQuerySchema,
    page=AuditEntrySchema,
)
@operator_or_scope("admin")
def list_audit() -> Response:
    """GET /v1/audit."""
    query = load_query(AuditQuerySchema())
    if is_operator():
        tenant_id = query.get("tenant_id")
    else:
        tenant_id = g.tenant.id  # a tenant_id filter from a tenant key is ignored, never obeyed
    stmt = audit_stmt(query, tenant_id)
    return keyset_page(db(), stmt, AuditEntry.id, query, audit_view, descending=True, kind=int)
