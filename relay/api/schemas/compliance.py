"""Schemas of relay.api.compliance: the chain's verification, its digests, evidence packs."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from relay.api.http import PageQuerySchema


class ProblemSchema(Schema):
    """The first record found edited, inserted or deleted."""

    kind = fields.String(metadata={"enum": ["edited", "inserted", "deleted"]})
    table = fields.String(allow_none=True)
    id = fields.Raw(allow_none=True)
    seq = fields.Integer(allow_none=True)
    detail = fields.String()


class VerifySchema(Schema):
    """The tenant's chain, recomputed."""

    tenant = fields.String()
    ok = fields.Boolean()
    records = fields.Integer()
    head_seq = fields.Integer()
    head_hash = fields.String()
    digests_checked = fields.Integer()
    problem = fields.Nested(ProblemSchema, allow_none=True)


class DigestSchema(Schema):
    """A signed daily digest of the chain (Ed25519 over `signed`)."""

    chain = fields.String()
    day = fields.String()
    seq = fields.Integer()
    hash = fields.String()
    key_id = fields.String()
    signature = fields.String(metadata={"description": "hex Ed25519 signature of `signed`"})
    signed = fields.String(metadata={"description": "the exact bytes signed (canonical JSON)"})
    public_key = fields.String(metadata={"description": "hex raw Ed25519 public key"})
    created_at = fields.String(metadata={"format": "date-time"})


class DigestQuerySchema(PageQuerySchema):
    """`limit`, `cursor`."""


class EvidencePackQuerySchema(Schema):
    """The number, the format and the language of the pack."""

    class Meta:
        unknown = EXCLUDE

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "pdf")))
    lang = fields.String(load_default="ru", validate=validate.OneOf(("ru", "en")))


class EvidencePackSchema(Schema):
    """The evidence pack (format=json); format=pdf answers application/pdf."""

    phone = fields.String()
    tenant = fields.Dict()
    generated_at = fields.String(metadata={"format": "date-time"})
    consent = fields.Dict(metadata={"description": "current state and every ledger record"})
    messages = fields.List(fields.Dict())
    stoplist = fields.Dict(metadata={"description": "entries in force and every change"})
    optout_reviews = fields.List(fields.Dict())
    chain = fields.Dict(metadata={"description": "verification, latest digest, public key"})
