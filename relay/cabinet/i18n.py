"""Languages and time zones of the cabinet (Flask-Babel).

Russian is the default (every tenant is in Russia, Belarus or Kazakhstan); a user may switch
to English, which is stored on the user (before signing in: in the session). Dates are shown
in the tenant's zone.

Translations live as .po files in relay/cabinet/translations and are compiled to .mo when the
app starts (into a folder under the system's temporary directory named by their content hash),
so a fresh `pip install` — editable or not — needs no build step and no compiled files in git.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, session
from flask_babel import Babel, format_datetime, get_locale

SOURCE = Path(__file__).parent / "translations"
LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def compiled_translations(source: Path = SOURCE) -> Path:
    """The folder of compiled .mo files for the .po files under `source` (made if needed)."""
    pos = sorted(source.glob("*/LC_MESSAGES/*.po"))
    digest = hashlib.sha256()
    for po in pos:
        digest.update(str(po.relative_to(source)).encode() + b"\0" + po.read_bytes())
    out = Path(tempfile.gettempdir()) / f"relay-cabinet-i18n-{digest.hexdigest()[:16]}"
    for po in pos:
        target = out / po.relative_to(source).with_suffix(".mo")
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, target)  # atomic: several workers may compile at once
    return out


def _locale() -> str:
    user = g.get("user")
    if user is not None and user.locale in LOCALES:
        return str(user.locale)
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    return DEFAULT_LOCALE


def _timezone() -> str:
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else "Europe/Moscow"


def init_babel(app: Flask) -> None:
    """Flask-Babel with the compiled translations and the cabinet's selectors."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled_translations())
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    Babel(app, locale_selector=_locale, timezone_selector=_timezone)


def local_time(value: datetime | None, fmt: str = "short") -> str:
    """A UTC datetime in the tenant's zone and the user's language ("" for None)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def jinja_helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "current_locale": current_locale,
        "language_names": LANGUAGE_NAMES,
    }
