"""Schemas of relay.api.audit: the audit log."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from relay.api.http import PageQuerySchema
from shared.wire_fields import UtcDateTime


class QueryDateTime(UtcDateTime):
    """A query-string time: a '+' of the offset arrives as a space when not URL-encoded."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and " " in value.strip():
            value = value.strip().replace(" ", "+")
        return super()._deserialize(value, attr, data, **kwargs)


class AuditQuerySchema(PageQuerySchema):
    """Filters of GET /v1/audit (newest first)."""

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
