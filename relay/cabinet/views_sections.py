"""Sections not built yet: a plain "coming soon" page at each one's own path and endpoint, so
the navigation, links and tests already point where the real page will be."""

from __future__ import annotations

from typing import Any

from flask import render_template

from relay.cabinet.blueprint import bp
from relay.cabinet.sections import SECTIONS, Section
from relay.cabinet.security import login_required


def _soon(section: Section) -> Any:
    @login_required
    def view():  # type: ignore[no-untyped-def]
        return render_template("cabinet/soon.html", section=section, active=section.slug)

    return view


for _section in SECTIONS:
    if not _section.ready:
        bp.add_url_rule(_section.path, endpoint=_section.slug, view_func=_soon(_section))
