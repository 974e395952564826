"""Marshmallow schemas of the API, one module per API module: they validate what comes in and
describe both directions in the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

DB_INT_MAX = 2**31 - 1  # the INTEGER columns ids, versions and counts are stored in


def db_int(*, minimum: int = 0, **kwargs: Any) -> fields.Integer:
    """A whole number that fits the database's INTEGER (minimum … 2^31−1): an id, a version, a
    count. Larger is a 422/400 naming the field, never an overflow in the driver."""
    return fields.Integer(validate=validate.Range(minimum, DB_INT_MAX), **kwargs)
