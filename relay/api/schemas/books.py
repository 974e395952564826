"""Schemas of relay.api.books: address books and their contacts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from relay.api.http import PageQuerySchema
from relay.api.schemas.imports import ImportJobSchema, UploadFormSchema
from relay.contacts.addressbook_import import parse_birthday
from relay.contacts.addressbooks import MAX_NAME


class BookBodySchema(Schema):
    """A book's name (unique per tenant)."""

    name = fields.String(required=True, validate=validate.Length(1, MAX_NAME))


class AddressBookSchema(Schema):
    """A book; `status` is importing while an upload fills it, then ready."""

    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"enum": ["importing", "ready"]})
    contacts = fields.Integer(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class BookImportFormSchema(UploadFormSchema):
    """The file and the new book's name. Columns come from the header row: phone/телефон,
    name/имя/ФИО, birthday/дата рождения (dd.mm.yyyy, yyyy-mm-dd, Excel dates); every other
    column becomes a custom field."""

    name = fields.String(required=True, validate=validate.Length(1, MAX_NAME))


class BookImportAnswerSchema(Schema):
    """The book (importing until the job is done) and the import job."""

    book = fields.Nested(AddressBookSchema)
    job = fields.Nested(ImportJobSchema)


class BookContactBodySchema(Schema):
    """A contact added by hand."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_NAME))
    birthday = fields.String(load_default=None, allow_none=True, metadata={"example": "17.05.1990"})
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(validate=validate.Length(1, 100)),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
    )

    @validates("birthday")
    def _birthday(self, value: str | None, **_: Any) -> None:
        try:
            parse_birthday(value)
        except (ValueError, OverflowError) as exc:
            raise ValidationError("dd.mm.yyyy or yyyy-mm-dd") from exc


class BookContactSchema(Schema):
    """One contact."""

    id = fields.Integer()
    book_id = fields.Integer()
    phone = fields.String()
    name = fields.String(allow_none=True)
    birthday = fields.String(allow_none=True, metadata={"format": "date"})
    fields_ = fields.Dict(data_key="fields")
    created_at = fields.String(metadata={"format": "date-time"})


class BookContactQuerySchema(PageQuerySchema):
    """`q`: part of the name or of the number."""

    q = fields.String(load_default=None, validate=validate.Length(max=100))
