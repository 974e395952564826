"""Texts of the settings page: the store's rules and contacts (which field an
`invalid_settings` error belongs to, in the user's language) and the key scopes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from relay.cabinet.texts import error_text
from relay.errors import RelayError

STORE_FIELDS = ("timezone", "frequency_cap", "optout_footer")
SCOPE_NAMES = {
    "events:write": _l("send events (a shop or CRM connector)"),
    "messages:read": _l("read messages and reports"),
    "admin": _l("administer the store (keys, settings)"),
}
SETTINGS_TEXTS = {
    "timezone": ("timezone", _l("Enter a time zone such as Europe/Minsk or Asia/Almaty.")),
    "frequency_cap": ("frequency_cap", _l("Enter a whole number from 0 to 1000.")),
    "optout_footer": (
        "optout_footer",
        _l("The footer must tell how to opt out (STOP, СТОП, отписаться …) or be empty."),
    ),
    "notification_contacts.phones": (
        "phones",
        _l("One of the phone numbers cannot be used. Write each with the country code."),
    ),
    "notification_contacts.emails": ("emails", _l("One of the e-mail addresses is not valid.")),
    "notification_contacts": ("emails", _l("At most 20 e-mail addresses and 20 phones.")),
}


def settings_errors(exc: RelayError) -> dict[str, str]:
    """{form field: sentence} for an error of the settings use case."""
    for name in exc.fields:
        for prefix, (field, text) in SETTINGS_TEXTS.items():
            if name == prefix or name.startswith(prefix + "."):
                return {field: str(text)}
    return {"_form": error_text(exc)}
