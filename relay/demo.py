"""`relay demo`: a few sample events through the real intake, and what was decided and why."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from shared.phones import mask_phone


def _night_clock(zone: str) -> datetime:
    """Tonight at 02:00 in the store's zone: the moment the demo pretends it is."""
    tz = ZoneInfo(zone)
    local = datetime.now(tz)
    night = datetime.combine(local.date() + timedelta(days=1), time(2, 0), tz)
    return night.astimezone(ZoneInfo("UTC"))


@click.command()
def demo() -> None:
    """Push sample events (an order at night, a cart without consent, a STOP-listed number)."""
    from relay import create_app
    from relay.bootstrap import DEMO_TENANT, ensure_demo_tenant, start_embedded_redis_if_needed
    from relay.compliance.stoplist import add_stop
    from relay.config import load_config
    from relay.storage.db import upgrade
    from relay.tenancy.tenants import create_key, find_tenant
    from relay.wiring import build_runtime

    cfg = load_config()
    embedded = start_embedded_redis_if_needed(cfg)
    try:
        upgrade(cfg["DATABASE_URL"])
        ensure_demo_tenant()
        rt = build_runtime(cfg)
        with rt.session() as s:
            tenant = find_tenant(s, DEMO_TENANT)
            _row, key = create_key(s, tenant, ["events:write", "messages:read"], "relay demo")
            add_stop(s, tenant.id, "+375296667788", "admin", rt.now(), note="demo: asked by phone")
            s.commit()
            zone = tenant.timezone
        night = _night_clock(zone)
        rt.clock = lambda: night
        client = create_app(runtime=rt).test_client()
        run = secrets.token_hex(3)
        stamp = night.isoformat()
        events = [
            (
                "order status at night (transactional)",
                {
                    "event_id": f"demo-{run}-order",
                    "type": "order.status_changed",
                    "occurred_at": stamp,
                    "customer": {"phone": "+375 29 123-45-67", "name": "Анна"},
                    "order": {
                        "id": "727",
                        "number": "727",
                        "status": "processing",
                        "previous_status": "pending",
                        "total": "29.35",
                        "currency": "BYN",
                    },
                },
            ),
            (
                "abandoned cart, no consent (marketing)",
                {
                    "event_id": f"demo-{run}-cart",
                    "type": "cart.abandoned",
                    "occurred_at": stamp,
                    "customer": {"phone": "80291112233", "name": "Олег"},
                    "cart": {
                        "id": f"c-{run}",
                        "total": "54.00",
                        "url": "https://shop.example.by/cart",
                    },
                },
            ),
            (
                "CRM message to a STOP-listed number",
                {
                    "event_id": f"demo-{run}-stop",
                    "type": "message.requested",
                    "occurred_at": stamp,
                    "customer": {"phone": "+375296667788"},
                    "message": {"text": "Ваш заказ готов к выдаче", "category": "transactional"},
                },
            ),
        ]
        click.echo(
            f"demo tenant {DEMO_TENANT!r}, store zone {zone}; the clock is set to "
            f"{night.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone} (night)\n"
        )
        for title, event in events:
            resp = client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
            body = resp.get_json()
            click.echo(f"• {title}: HTTP {resp.status_code}")
            for m in body.get("messages", []):
                detail = client.get(
                    f"/v1/messages/{m['id']}", headers={"Authorization": f"Bearer {key}"}
                ).get_json()
                decision = {"queued": "send", "scheduled": "defer", "blocked": "block"}.get(
                    m["status"], m["status"]
                )
                click.echo(
                    f"    to {mask_phone(detail['phone'])}: {decision.upper()} "
                    f"(status {m['status']}, reason {m['reason']})"
                )
                if detail.get("reason_detail"):
                    click.echo(f"      why: {detail['reason_detail']}")
                if m["not_before"]:
                    click.echo(f"      not before: {m['not_before']}")
            if "error" in body:
                click.echo(f"    error: {body['error']}")
    finally:
        if embedded:
            embedded.stop()
