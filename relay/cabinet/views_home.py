"""The home page: today's and the period's figures (the numbers of GET /v1/reports/stats),
the last mailings with their progress, the gateways, and what needs attention."""

from __future__ import annotations

from decimal import Decimal

from flask import g, render_template
from flask_babel import format_date, format_decimal

from relay.cabinet.blueprint import bp
from relay.cabinet.security import login_required, rt
from relay.gateways.health import tenant_gateways
from relay.reporting import overview


def money(spend: dict[str, str]) -> str:
    """{"BYN": "1.2300"} → "1,23 BYN" in the user's language; "0" when nothing was spent."""
    if not spend:
        return "0"
    return ", ".join(
        f"{format_decimal(Decimal(v), format='#,##0.00')} {cur}" for cur, v in sorted(spend.items())
    )


@bp.get("/", endpoint="home")
@login_required
def home():  # type: ignore[no-untyped-def]
    now = rt().now()
    tenant = g.tenant
    return render_template(
        "cabinet/home.html",
        active="home",
        counts=overview.counts(g.db, tenant, now),
        campaigns=overview.recent_campaigns(g.db, tenant, now),
        gateways=tenant_gateways(rt(), g.db, tenant.id),
        attention=overview.needs_attention(g.db, tenant.id, now),
        money=money,
        local_date=lambda d: format_date(d, "long"),
    )
