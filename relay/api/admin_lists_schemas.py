"""Marshmallow schemas of the admin_lists routes: request validation and the OpenAPI document."""

from __future__ import annotations

import ipaddress
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from relay.api.admin_lists_http import ListsPageQuerySchema
from relay.compliance.stoplist import STOP_SOURCES
from relay.compliance.stoplist_admin import STOP_CHANNELS
from shared.events import CONSENT_SOURCES
from shared.wire_fields import StrictBoolean

CONSENT_CHANNELS = ("sms", "viber", "all")
_TEXT_1K = validate.Length(max=1000)


def _ip(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise ValidationError("not an IPv4 or IPv6 address") from exc


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


# ---- stop-list -------------------------------------------------------------------------


class StopSearchQuerySchema(ListsPageQuerySchema):
    """Filters: exact number (any spelling), channel, source, and `q` (part of number or note)."""

    phone = fields.String(load_default=None)
    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))
    source = fields.String(load_default=None, validate=validate.OneOf(STOP_SOURCES))
    q = fields.String(load_default=None, validate=validate.Length(max=100))


class StopEntrySchema(Schema):
    """One stop-list entry."""

    id = fields.Integer()
    phone = fields.String(metadata={"example": "+375291234567"})
    channel = fields.String(metadata={"enum": list(STOP_CHANNELS)})
    source = fields.String(metadata={"enum": list(STOP_SOURCES)})
    note = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})


class StopPageSchema(Schema):
    """A page of entries."""

    items = fields.List(fields.Nested(StopEntrySchema))
    next_cursor = fields.Integer(allow_none=True)


class StopAddSchema(Schema):
    """A number to stop (source `admin`)."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    channel = fields.String(load_default="all", validate=validate.OneOf(STOP_CHANNELS))
    note = fields.String(load_default=None, allow_none=True, validate=_TEXT_1K)


class StopDeleteSchema(Schema):
    """Ids of entries to delete (at most 500 per call)."""

    ids = fields.List(fields.Integer(strict=True), required=True, validate=validate.Length(1, 500))


class StopDeletedSchema(Schema):
    """What was deleted; ids that are not this tenant's entries are `not_found`."""

    deleted = fields.List(fields.Integer())
    not_found = fields.List(fields.Integer())


class StopClearSchema(Schema):
    """Without `confirm_token`: ask for one. With it: delete (of `channel`, or every entry)."""

    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))
    confirm_token = fields.String(load_default=None, validate=validate.Length(1, 200))


class StopClearAnswerSchema(Schema):
    """Step one answers count + confirm_token + expires_at; step two answers deleted."""

    count = fields.Integer()
    channel = fields.String(allow_none=True)
    confirm_token = fields.String()
    expires_at = fields.String(metadata={"format": "date-time"})
    deleted = fields.Integer()


class ExportQuerySchema(_Loose):
    """`format` of the download."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class StopExportQuerySchema(ExportQuerySchema):
    """`format`, and `channel` to download one channel's entries only."""

    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))


class UploadFormSchema(Schema):
    """multipart/form-data: the file (xlsx or csv: UTF-8 or cp1251, `,` or `;`)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class StopImportFormSchema(UploadFormSchema):
    """Channel for rows without a `channel` column (default all)."""

    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))


# ---- imports ---------------------------------------------------------------------------


class ImportRowSchema(Schema):
    """One refused row."""

    row = fields.Integer()
    value = fields.String()
    reason = fields.String(
        metadata={
            "example": "invalid_phone",
            "description": "empty, invalid_phone, unsupported_country, duplicate_in_file, "
            "invalid_channel, invalid_birthday, value_too_long, invalid_granted, "
            "invalid_date, invalid_ip",
        }
    )
    detail = fields.String()


class ImportReportSchema(Schema):
    """The first 1,000 refused rows, and every refusal counted by reason."""

    rows = fields.List(fields.Nested(ImportRowSchema))
    by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    truncated = fields.Boolean()
    already_listed = fields.Integer(metadata={"description": "stop-list imports only"})


class ImportJobSchema(Schema):
    """An import's progress (live while running) and, when done, its report."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["address_book", "stoplist", "consent"]})
    target_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["running", "done", "failed"]})
    total = fields.Integer()
    processed = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    report = fields.Nested(ImportReportSchema, allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    finished_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class ImportAnswerSchema(Schema):
    """The job (finished when the file was small, running when answered 202)."""

    job = fields.Nested(ImportJobSchema)


# ---- consent ---------------------------------------------------------------------------


class ConsentBodySchema(Schema):
    """One grant or revocation; `wording` is required for a grant."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    granted = StrictBoolean(required=True)
    channel = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CONSENT_CHANNELS)
    )
    source = fields.String(required=True, validate=validate.OneOf(CONSENT_SOURCES))
    purpose = fields.String(load_default="marketing", validate=validate.OneOf(("marketing",)))
    wording = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=10_000)
    )
    ip = fields.String(load_default=None, allow_none=True, validate=_ip)
    user_agent = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=1024)
    )
    captured_at = fields.AwareDateTime(load_default=None, allow_none=True)


class ConsentRecordSchema(Schema):
    """One ledger record."""

    id = fields.Integer()
    phone = fields.String()
    purpose = fields.String()
    channel = fields.String()
    granted = fields.Boolean()
    source = fields.String()
    wording = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    captured_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    recorded_at = fields.String(metadata={"format": "date-time"})


class ConsentQuerySchema(ListsPageQuerySchema):
    """`phone` (any spelling) narrows to one number and adds its current state per channel."""

    phone = fields.String(load_default=None)
    source = fields.String(load_default=None, validate=validate.OneOf(CONSENT_SOURCES))


class ConsentStateSchema(Schema):
    """The record in force for one channel."""

    granted = fields.Boolean()
    record = fields.Nested(ConsentRecordSchema)


class ConsentPageSchema(Schema):
    """Records newest first; with `phone`, the current state per channel (null: none)."""

    phone = fields.String(allow_none=True)
    current = fields.Dict(
        keys=fields.String(), values=fields.Nested(ConsentStateSchema, allow_none=True)
    )
    items = fields.List(fields.Nested(ConsentRecordSchema))
    next_cursor = fields.Integer(allow_none=True)


class EvidenceQuerySchema(_Loose):
    """The number, and the format of the evidence."""

    phone = fields.String(required=True)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class EvidenceMessageSchema(Schema):
    """A marketing message sent while a grant was in force."""

    id = fields.String()
    channel = fields.String()
    status = fields.String()
    sender = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    text = fields.String()
    sent_at = fields.String(metadata={"format": "date-time"})


class EvidenceRecordSchema(ConsentRecordSchema):
    """A record with the event that brought it and the messages that relied on it."""

    event_id = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(EvidenceMessageSchema))


class EvidenceSchema(Schema):
    """Consent evidence for one number (format=json; csv and xlsx carry the same facts)."""

    phone = fields.String()
    tenant = fields.Dict()
    generated_at = fields.String(metadata={"format": "date-time"})
    current = fields.Dict()
    records = fields.List(fields.Nested(EvidenceRecordSchema))
    messages_without_grant = fields.List(fields.Nested(EvidenceMessageSchema))


class ConsentImportFormSchema(UploadFormSchema):
    """The wording shown to these people is required; rows may override granted/channel."""

    wording = fields.String(required=True, validate=validate.Length(1, 10_000))
    channel = fields.String(load_default=None, validate=validate.OneOf(CONSENT_CHANNELS))
    granted = fields.Boolean(load_default=True)


def form_without_file(schema: type[Schema]) -> Schema:
    """The form schema minus `file` (which arrives in request.files, not request.form)."""
    return schema(exclude=("file",))


def strip_none(data: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value is None."""
    return {k: v for k, v in data.items() if v is not None}
