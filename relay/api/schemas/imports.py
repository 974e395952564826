"""Schemas of relay.api.imports: uploads, import jobs and their reports, download formats."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class ExportQuerySchema(_Loose):
    """`format` of the download."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class UploadFormSchema(Schema):
    """multipart/form-data: the file (xlsx or csv: UTF-8 or cp1251, `,` or `;`)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


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
