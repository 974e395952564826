"""What the mailing pages (new mailing, single message, greetings, my mailings) say for the
campaign, content and contact use cases' error codes, and the decision reasons they show."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from relay.cabinet.texts import error_text
from relay.errors import RelayError

MESSAGES = {
    "campaign_exists": _l("A mailing with this name already exists. Choose another name."),
    "campaign_not_found": _l("There is no such mailing in this store."),
    "template_not_found": _l("There is no such template. Choose one from the list."),
    "book_not_found": _l("There is no such address book. Choose one from the list."),
    "book_required": _l("Choose who receives the mailing."),
    "book_name_taken": _l("An address book with this name already exists."),
    "invalid_channels": _l("Choose a channel from the list."),
    "invalid_channel": _l("Choose a channel from the list."),
    "invalid_time": _l("Write the start as a date and time, e.g. 2026-03-01 11:00."),
    "invalid_greeting_date": _l("Write the date as month and day, e.g. 03-08."),
    "invalid_sender": _l("This sender name cannot be used on this channel."),
    "sender_not_allowed": _l("This sender name is not registered for this channel."),
    "sender_not_registered": _l("This sender name is not registered for this channel."),
    "test_phone_required": _l("Write the number the test goes to."),
    "template_error": _l("The text cannot be filled in: %(detail)s"),
    "template_syntax_error": _l("The text has a mistake in its placeholders: %(detail)s"),
    "template_too_long": _l("The text is too long: %(detail)s"),
    "no_recipients": _l("The address book has no contacts."),
    "no_consented_recipients": _l(
        "Nobody in the audience may receive this mailing (no consent, stop-list …)."
    ),
    "invalid_campaign_state": _l("This cannot be done with the mailing in its present state."),
    "invalid_file": _l("This file cannot be read: %(detail)s"),
    "file_too_large": _l("The file is too large."),
    "validation_error": _l("Check the fields: %(detail)s"),
    "invalid_body": _l("Check the fields: %(detail)s"),
    "invalid_pace": _l("Write whole numbers: 1 to 100000 messages per 1 to 10080 minutes."),
    "invalid_numbers": _l("These lines are not numbers we can use: %(detail)s"),
    "name_required": _l("Enter a name of 1 to 200 characters."),
    "text_required": _l("Write the text or choose a template."),
    "invalid_viber": _l("Fill in the Viber fields: %(detail)s"),
}
# `invalid_time` on the fields of "at each recipient's own time" says what those need
TIME_FIELDS = {
    "local_time": _l("Write the time as hours and minutes, e.g. 11:00."),
    "local_until": _l(
        "The window needs a time to start and must end after it on the same day, e.g. 11:00 "
        "to 14:00."
    ),
    "best_hour": _l("The best hour needs a time for recipients without history: fill in Time."),
}
WITH_DETAIL = {
    "template_error", "template_syntax_error", "template_too_long", "invalid_file",
    "validation_error", "invalid_body", "invalid_numbers", "invalid_viber",
}  # fmt: skip

REASONS = {
    "stop_list": _l("on a stop-list"),
    "no_consent": _l("no consent to advertising"),
    "frequency_cap": _l("too many messages to this number lately"),
    "invalid_phone": _l("not a usable number"),
    "content_rule": _l("the text breaks a content rule"),
    "sender_not_allowed": _l("sender name not allowed"),
    "tenant_disabled": _l("the store is disabled"),
    "quiet_hours": _l("quiet hours"),
    "throttled": _l("sending rate limit"),
    "unspecified": _l("no reason recorded"),
    "footer_appended": _l("the opt-out footer was added"),
    "timezone_fallback": _l("the recipient's time zone was guessed from the number"),
    "consent_source_added": _l("the consent source was added to the text"),
}


def reason_text(code: Any) -> str:
    """A decision reason in the user's language (the code itself when unknown)."""
    text = REASONS.get(str(code))
    return str(text) if text is not None else str(code)


def mailing_error(exc: RelayError) -> str:
    """The user's-language sentence for a mailing use case's error."""
    text = MESSAGES.get(exc.code)
    if text is None:
        return error_text(exc)
    if exc.code in WITH_DETAIL:
        detail = exc.message.split(": ", 1)[-1] if ": " in exc.message else exc.message
        return str(text) % {"detail": detail}
    return str(text)


def mailing_errors(exc: RelayError, fields: tuple[str, ...]) -> dict[str, str]:
    """{field or "_form": message}: the first field the error names that the form has."""
    names = [str(k).split(".")[0] for k in (exc.fields or {})]
    field = next((f for f in names if f in fields), "_form")
    if exc.code == "invalid_time" and field in TIME_FIELDS:
        return {field: str(TIME_FIELDS[field])}
    return {field: mailing_error(exc)}
