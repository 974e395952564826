"""A mailing's results on its page (clicks, orders, revenue, cost, A/B variants with their
intervals) and sending an A/B winner to the rest of the book — the same use cases as
GET /v1/campaigns/<id>/results and POST /v1/campaigns/<id>/winner."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from relay.cabinet.blueprint import bp
from relay.cabinet.mailing_texts import mailing_error
from relay.cabinet.security import role_required, rt
from relay.campaigns.audience import count_book
from relay.campaigns.campaigns import get_campaign
from relay.campaigns.runs import launch
from relay.campaigns.winner import choose_winner
from relay.errors import RelayError
from relay.growth.results import campaign_results


def results_of(c: Any) -> dict[str, Any] | None:
    """The figures shown on a started mailing's page; None for a draft."""
    if c.status == "draft":
        return None
    return campaign_results(g.db, c)


def percent(rate: dict[str, float] | None) -> str:
    """A rate with its interval, e.g. "4.2 % (2.1–7.9 %)"."""
    if not rate:
        return "—"
    return f"{rate['value'] * 100:.1f} % ({rate['low'] * 100:.1f}–{rate['high'] * 100:.1f} %)"


@bp.post("/mailings/<int:campaign_id>/winner")
@role_required("manager")
def mailing_winner(campaign_id: int):  # type: ignore[no-untyped-def]
    from relay.cabinet.views_mailings import actor, detail_page

    c = get_campaign(g.db, g.tenant.id, campaign_id)
    runtime = rt()
    try:
        choose_winner(g.db, g.tenant, c, request.form.get("template", ""), actor(), runtime.now())
    except RelayError as exc:
        g.db.rollback()
        c = get_campaign(g.db, g.tenant.id, campaign_id)
        return detail_page(c, errors={"_form": mailing_error(exc)}, status=exc.status)
    g.db.commit()
    launch(runtime, c.id, count_book(g.db, c))
    flash(_("The winning text is being sent to the rest of the book."), "success")
    return redirect(url_for("cabinet.mailing", campaign_id=campaign_id))
