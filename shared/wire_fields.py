"""marshmallow fields and validators for the Event wire schema (see `shared.events`)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from shared.checks import CURRENCY_RE, is_valid_zone

CURRENCY = validate.Regexp(CURRENCY_RE, error="Not an ISO 4217 currency code.")
# Blank strings are refused like in the dataclasses: "   " is never a useful value.
NOT_BLANK = validate.Regexp(r"[\s\S]*\S", error="Must not be blank.")


class IdField(fields.String):
    """A platform id (or phone): a string, or an integer as some platforms send it bare."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true/false only: consent is evidence, "yes", 1 or "on" are not good enough."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset (a naive time is refused), loaded as an aware UTC datetime."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


def text_field(max_len: int = 255, **kwargs: Any) -> fields.String:
    """A string of at most `max_len` characters that is not blank."""
    return fields.String(validate=[validate.Length(max=max_len), NOT_BLANK], **kwargs)


def url_field(**kwargs: Any) -> fields.Url:
    """An absolute http(s) URL of at most 2048 characters."""
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,  # dev and test shops live on localhost
        validate=validate.Length(max=2048),
        **kwargs,
    )


def zone_validator(value: str) -> None:
    """Refuse names that are not IANA time zones."""
    if not is_valid_zone(value):
        raise ValidationError("Unknown time zone.")


def ip_validator(value: str) -> None:
    """Refuse text that is not an IPv4 or IPv6 address."""
    # fields.IP would load ipaddress objects; the vocabulary keeps the text as captured.
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError("Not a valid IP address.") from None
