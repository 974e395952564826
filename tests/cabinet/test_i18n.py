"""Every text the cabinet shows has its Russian translation (the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

CABINET = Path(__file__).resolve().parents[2] / "relay" / "cabinet"


def test_every_message_of_the_cabinet_is_translated_to_russian():
    methods = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    found = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(CABINET), methods, keywords=keywords)
    }
    with open(CABINET / "translations/ru/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="ru")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert len(found) > 150
    missing = sorted(found - translated)
    assert not missing, f"no Russian for: {missing} (see relay/cabinet/babel.cfg)"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy
