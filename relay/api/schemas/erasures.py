"""Schemas of relay.api.erasures."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ErasureBodySchema(Schema):
    """POST /v1/erasures: the number to erase (and, for the operator, whose)."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    tenant = fields.String(
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={"description": "operator only (required then): tenant id or name"},
    )


class ErasureReportSchema(Schema):
    """What the erasure changed; `token` stands for the number from now on."""

    tenant_id = fields.String()
    token = fields.String(
        metadata={"description": "the salted hash kept for the number in the stop-list"}
    )
    contacts_deleted = fields.Integer()
    clicks_erased = fields.Integer(metadata={"description": "clicks on the number's short links"})
    links_erased = fields.Integer(metadata={"description": "the number's short links"})
    campaign_test_phones_cleared = fields.Integer()
    messages_anonymised = fields.Integer()
    replies_anonymised = fields.Integer()
    survey_answers_anonymised = fields.Integer()
    events_erased = fields.Integer()
    inbox_records_erased = fields.Integer()
    stoplist_entries_hashed = fields.Integer()
    consent_records_kept = fields.Integer(
        metadata={"description": "consent records kept unchanged as evidence (hash-chained)"}
    )
    optout_reviews_erased = fields.Integer()
    records_requoted = fields.Integer()
