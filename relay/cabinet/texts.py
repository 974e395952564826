"""What the cabinet says for each error code of the use cases, in the user's language, and on
which form field it belongs."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from relay.errors import RelayError

MESSAGES = {
    "invalid_phone": _l("This is not a phone number we can use. Write it with the country code."),
    "unsupported_number": _l(
        "Only mobile numbers of Russia, Belarus and Kazakhstan can be used here."
    ),
    "phone_taken": _l("This number already has an account. Sign in or reset the password."),
    "weak_password": _l("The password needs at least 8 characters."),
    "invalid_name": _l("Enter a name of 1 to 200 characters."),
    "tenant_exists": _l("A store with this name already exists. Choose another name."),
    "unsupported_region": _l("Choose Russia, Belarus or Kazakhstan."),
    "signup_closed": _l("Sign-up is closed on this relay. Ask its operator for an invitation."),
    "invitation_invalid": _l(
        "This invitation link is not valid any more. Ask the store's owner for a new one."
    ),
    "sso_expired": _l("This sign-in link has expired. Open the cabinet from your CRM again."),
    "sso_used": _l("This sign-in link was already used. Open the cabinet from your CRM again."),
    "sso_invalid": _l("This sign-in link is not valid."),
    "last_owner": _l("A store keeps at least one owner."),
    "invalid_role": _l("Choose a role from the list."),
    "user_not_found": _l("There is no such user in this store."),
    "invitation_not_found": _l("There is no such invitation in this store."),
    "invalid_settings": _l("These settings cannot be used: %(detail)s"),
    "invalid_locale": _l("Choose a language from the list."),
    "tenant_disabled": _l("This store is disabled."),
}
FIELDS = ("phone", "password", "name", "store", "region", "role", "code", "locale")


def wait_text(seconds: Any) -> str:
    minutes = max(1, math.ceil(int(seconds or 60) / 60))
    return _("Wait %(minutes)s min before asking for a new code.", minutes=minutes)


def error_text(exc: RelayError) -> str:
    """The user's-language sentence for a use case's error."""
    if exc.code == "too_many_codes":
        return _("Too many codes were asked for.") + " " + wait_text(exc.fields.get("retry_after"))
    if exc.code == "too_many_signins":
        minutes = max(1, math.ceil(int(exc.fields.get("retry_after") or 60) / 60))
        return _("Too many sign-in attempts. Try again in %(minutes)s min.", minutes=minutes)
    if exc.code == "code_locked":
        return _("Three wrong codes.") + " " + wait_text(exc.fields.get("retry_after"))
    text = MESSAGES.get(exc.code)
    if text is None:
        return exc.message
    if exc.code == "invalid_settings":
        return str(text) % {"detail": exc.message}
    return str(text)


def form_errors(exc: RelayError) -> dict[str, str]:
    """{field or "_form": message} for a form: the first field the error names, if the form has
    one, else the whole form."""
    field = next((f for f in exc.fields if f in FIELDS), "_form")
    return {field: error_text(exc)}
