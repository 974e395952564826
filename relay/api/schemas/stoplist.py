"""Schemas of relay.api.stoplist."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.api.http import PageQuerySchema
from relay.api.schemas import db_int
from relay.api.schemas.imports import ExportQuerySchema, UploadFormSchema
from relay.compliance.stoplist import STOP_SOURCES
from relay.compliance.stoplist_admin import STOP_CHANNELS

_TEXT_1K = validate.Length(max=1000)


class StopLookupQuerySchema(PageQuerySchema):
    """GET /v1/stoplist: the number (any spelling the tenant's region allows)."""

    phone = fields.String(required=True, metadata={"example": "+375291234567"})


class StopSearchQuerySchema(PageQuerySchema):
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


class StopLookupEntrySchema(Schema):
    """One entry of a number, as GET /v1/stoplist shows it."""

    phone = fields.String(metadata={"example": "+375291234567"})
    channel = fields.String(metadata={"enum": list(STOP_CHANNELS)})
    source = fields.String(metadata={"enum": list(STOP_SOURCES)})
    note = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})


class StopAddSchema(Schema):
    """A number to stop (source `admin`)."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    channel = fields.String(load_default="all", validate=validate.OneOf(STOP_CHANNELS))
    note = fields.String(load_default=None, allow_none=True, validate=_TEXT_1K)


class StopDeleteSchema(Schema):
    """Ids of entries to delete (at most 500 per call)."""

    ids = fields.List(db_int(strict=True), required=True, validate=validate.Length(1, 500))


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


class StopExportQuerySchema(ExportQuerySchema):
    """`format`, and `channel` to download one channel's entries only."""

    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))


class StopImportFormSchema(UploadFormSchema):
    """Channel for rows without a `channel` column (default all)."""

    channel = fields.String(load_default=None, validate=validate.OneOf(STOP_CHANNELS))
