"""Marshmallow schemas of the cabinet-link route."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.people.sso import PLATFORMS


class CabinetLinkSchema(Schema):
    """Which platform's settings page asks for the link."""

    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))


class CabinetLinkAnswerSchema(Schema):
    """A one-time sign-in link."""

    url = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    expires_in = fields.Integer(required=True)
