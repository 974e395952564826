"""WooCommerce webhooks while the database is down: verified with the secret read before the
outage, spooled, answered 202, recorded once when replayed
(docs/security.md, 'Durable intake spool')."""

from __future__ import annotations

from sqlalchemy import func, select

from relay.api.spool_http import app_spool, replay_through
from relay.storage.models import ConnectorInbox
from tests.connectors.woocommerce.helpers import SECRET, deliver, order
from tests.support.outage import database_down

URL = "/connectors/woocommerce/webhook"


def inbox_count(rt) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return int(s.scalar(select(func.count()).select_from(ConnectorInbox)) or 0)


def test_a_signed_webhook_during_an_outage_is_spooled_and_recorded_once(
    rt, app, client, shop, tmp_path
):
    assert (
        deliver(client, shop["source"], "order.updated", order(status="pending")).status_code == 202
    )
    with database_down(rt, tmp_path):
        first = deliver(client, shop["source"], "order.updated", order(status="processing"))
        again = deliver(client, shop["source"], "order.updated", order(status="processing"))
        forged = deliver(
            client, shop["source"], "order.updated", order(status="completed"), secret=SECRET + "x"
        )
        unknown = deliver(client, "https://elsewhere.example/", "order.updated", order())
    assert first.status_code == 202 and first.get_json() == {"status": "accepted", "spooled": True}
    assert again.status_code == 202  # WooCommerce would not retry; a repeat is still one record
    assert forged.status_code == 401  # verified against the secret read before the outage
    assert unknown.status_code == 503 and unknown.headers["Retry-After"] == "30"
    report = app_spool(app).replay(replay_through(app))
    assert (report.replayed, report.waiting) == (2, 0)
    # the pending one, and the processing one once: its signature held at replay too
    assert inbox_count(rt) == 2
