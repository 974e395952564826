"""The cabinet's sections, in navigation order. A section that is not built yet (`ready`
False) is served by the "coming soon" page at its path; whoever builds it writes the view
with the same endpoint (`cabinet.<slug>`) and sets `ready=True` here."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Section:
    slug: str  # the endpoint is cabinet.<slug>
    path: str
    label: object  # a lazy translated string
    ready: bool = False


SECTIONS: tuple[Section, ...] = (
    Section("home", "/", _l("Home"), ready=True),
    Section("mailing_new", "/mailings/new", _l("New mailing"), ready=True),
    Section("message_new", "/messages/new", _l("Single message"), ready=True),
    Section("greetings", "/greetings", _l("Greetings"), ready=True),
    Section("mailings", "/mailings", _l("My mailings"), ready=True),
    Section("books", "/books", _l("Address books"), ready=True),
    Section("stoplists", "/stoplists", _l("Stop-lists"), ready=True),
    Section("consent", "/consent", _l("Consent"), ready=True),
    Section("templates", "/templates", _l("Templates"), ready=True),
    Section("flows", "/flows", _l("Flows"), ready=True),
    Section("senders", "/senders", _l("Sender names"), ready=True),
    Section("detail", "/detail", _l("Detail"), ready=True),
    Section("statistics", "/statistics", _l("Statistics"), ready=True),
    Section("replies", "/replies", _l("Replies"), ready=True),
    Section("explain", "/explain", _l("Explain"), ready=True),
    Section("settings", "/settings", _l("Settings"), ready=True),
)
BY_SLUG = {s.slug: s for s in SECTIONS}
