"""`relay demo`: what the running relay decides for a few sample messages, and why.

It talks to the relay over HTTP, as a store would, with the demo tenant's key (`var/demo_key`,
written by `relay up`'s first start) or `--key`, at the real clock. It leaves nothing that
will be sent: the order-status cases are what-if decisions (`POST /v1/policy/explain`, which
sends nothing), and the two events it really pushes are sent only after the same explain has
said they will be blocked (a number without marketing consent, a number on the stop-list), so
their messages are recorded as `blocked`, with the reason, and never queued.
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn, cast
from zoneinfo import ZoneInfo

import click
import requests

from relay.messages.lifecycle import MessageStatus as S

DEFAULT_URL = "http://127.0.0.1:8000"
ORDER_PHONE = "+375291234567"
CART_PHONE = "+375291112233"
STOP_PHONE = "+375296667788"
TIMEOUT = 10


class DemoError(Exception):
    """Something the user has to fix (relay not running, key missing or refused)."""


class Relay:
    """A minimal client of the relay's HTTP API for the demo."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
        """The JSON answer; DemoError for anything the demo cannot go on with."""
        try:
            resp = self.http.request(method, self.url + path, json=body, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise DemoError(
                f"cannot reach the relay at {self.url} ({type(exc).__name__}): "
                "start it with `relay up` (or pass --url)"
            ) from exc
        try:
            data = resp.json()
        except ValueError as exc:
            raise DemoError(
                f"{self.url} answered HTTP {resp.status_code} that is not the relay's JSON: "
                "is the relay running there? start it with `relay up`"
            ) from exc
        if resp.status_code < 300 or resp.status_code in ok:
            return data
        error = data.get("error", {}) if isinstance(data, dict) else {}
        what = f"{error.get('code', resp.status_code)}: {error.get('message', '')}".strip()
        if resp.status_code == 401:
            raise DemoError(
                f"the relay at {self.url} refused the key ({what}): pass the demo tenant's key "
                "with --key, or run the demo where `relay up` wrote var/demo_key (RELAY_HOME)"
            )
        if resp.status_code == 403:
            raise DemoError(
                f"the key may not do {method} {path} ({what}): the demo needs the scopes "
                "messages:read, events:write and admin (the demo tenant's key has them)"
            )
        raise DemoError(f"{method} {path} failed with HTTP {resp.status_code} ({what})")


def _read_key(key: str | None) -> str:
    if key:
        return key.strip()
    from relay.config import VAR_DIR

    path = Path(VAR_DIR) / "demo_key"
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if not found:
        raise DemoError(
            f"no API key: {path} does not exist (`relay up` writes it on its first start, "
            "in its RELAY_HOME): pass --key, or set RELAY_HOME to the folder of `relay up`"
        )
    return found


def _tonight(zone: str, now: datetime) -> datetime:
    """The coming night at 02:00 in `zone`."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=0 if local.hour < 2 else 1)
    return datetime.combine(day, time(2, 0), tz)


def _local(value: str | None, zone: str) -> str | None:
    if not value:
        return None
    return f"{datetime.fromisoformat(value).astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _explained(title: str, phone: str, answer: dict[str, Any], zone: str) -> dict[str, Any]:
    reasons = answer.get("reasons") or []
    return {
        "title": title,
        "kind": "what-if",
        "phone": answer.get("phone", phone),
        "decision": answer["decision"],
        "reason": reasons[0]["code"] if reasons and answer["decision"] != "send" else None,
        "why": reasons[0]["detail"] if reasons else None,
        "not_before": _local(answer.get("not_before"), zone),
        "status": None,
        "message_id": None,
    }


def _pushed(relay: Relay, title: str, event: dict[str, Any], zone: str) -> list[dict[str, Any]]:
    body = relay.call("POST", "/v1/events", event)
    out = []
    for m in body.get("messages", []):
        detail = relay.call("GET", f"/v1/messages/{m['id']}")
        decision = {S.QUEUED: "send", S.SCHEDULED: "defer", S.BLOCKED: "block"}.get(
            m["status"], m["status"]
        )
        out.append(
            {
                "title": title,
                "kind": "event",
                "event_id": event["event_id"],
                "phone": detail["phone"],
                "decision": decision,
                "reason": m["reason"],
                "why": detail.get("reason_detail"),
                "not_before": _local(m.get("not_before"), zone),
                "status": m["status"],
                "message_id": m["id"],
            }
        )
    return out


def run_demo(url: str, key: str | None) -> dict[str, Any]:
    """Ask the relay for the sample decisions; returns what `relay demo --json` prints."""
    relay = Relay(url, _read_key(key))
    relay.call("GET", "/healthz", ok=(503,))  # reachable at all (503: a part is down)
    now = datetime.now(ZoneInfo("UTC"))
    run = secrets.token_hex(3)
    results: list[dict[str, Any]] = []

    def explain(phone: str, category: str, at: datetime | None = None) -> dict[str, Any]:
        body = {"phone": phone, "category": category}
        if at is not None:
            body["at"] = at.isoformat()
        # the explanation is a JSON object (call raises on an error answer)
        return cast(dict[str, Any], relay.call("POST", "/v1/policy/explain", body))

    # 1-2. an order status now and at night: what-ifs only (a deferred one would be sent later)
    first = explain(ORDER_PHONE, "transactional")
    zone = (first.get("timezones") or ["UTC"])[0]
    results.append(_explained("order status now (transactional)", ORDER_PHONE, first, zone))
    night = _tonight(zone, now)
    results.append(
        _explained(
            f"the same order status at {night:%H:%M} tonight (transactional)",
            ORDER_PHONE,
            explain(ORDER_PHONE, "transactional", night),
            zone,
        )
    )

    # 3. an abandoned cart (marketing) to a number without consent: pushed as a real event only
    # when the policy blocks it
    title = "abandoned cart, no consent (marketing)"
    cart_check = explain(CART_PHONE, "marketing", now + timedelta(hours=1))
    if cart_check["decision"] == "block":
        cart = {
            "event_id": f"demo-{run}-cart",
            "type": "cart.abandoned",
            "occurred_at": now.isoformat(),
            "customer": {"phone": "80291112233", "name": "Олег"},
            "cart": {"id": f"demo-{run}", "total": "54.00", "url": "https://shop.example.by/cart"},
        }
        pushed = _pushed(relay, title, cart, zone)
        if any(r["status"] != S.BLOCKED for r in pushed):
            # consent came in between the check and the event: the flow's own cancel event
            relay.call(
                "POST",
                "/v1/events",
                {
                    "event_id": f"demo-{run}-cart-recovered",
                    "type": "cart.recovered",
                    "occurred_at": now.isoformat(),
                    "customer": {"phone": "80291112233"},
                    "cart": {"id": f"demo-{run}"},
                },
            )
            for r in pushed:
                r["status"] = relay.call("GET", f"/v1/messages/{r['message_id']}")["status"]
        results.extend(pushed)
    else:
        results.append(_explained(title + " [has consent here]", CART_PHONE, cart_check, zone))

    # 4. a CRM message to a number on the stop-list (put there by the demo; 200 if it already is)
    title = "CRM message to a STOP-listed number"
    relay.call(
        "POST",
        "/v1/stoplist/entries",
        {"phone": STOP_PHONE, "note": "relay demo: asked by phone"},
    )
    stop_check = explain(STOP_PHONE, "transactional")
    if stop_check["decision"] == "block":
        stop = {
            "event_id": f"demo-{run}-stop",
            "type": "message.requested",
            "occurred_at": now.isoformat(),
            "customer": {"phone": STOP_PHONE},
            "message": {"text": "Ваш заказ готов к выдаче", "category": "transactional"},
        }
        results.extend(_pushed(relay, title, stop, zone))
    else:
        results.append(_explained(title, STOP_PHONE, stop_check, zone))

    to_send = [
        r for r in results if r["kind"] == "event" and r["status"] not in (S.BLOCKED, S.CANCELLED)
    ]
    return {
        "url": relay.url,
        "now": _local(now.isoformat(), zone),
        "zone": zone,
        "decisions": results,
        "will_be_sent": len(to_send),
    }


def _print(report: dict[str, Any]) -> None:
    click.echo(f"relay at {report['url']}, now {report['now']} (the real clock)")
    for r in report["decisions"]:
        how = "what-if, sends nothing" if r["kind"] == "what-if" else "event pushed"
        click.echo(f"• {r['title']} — {how}")
        status = f"status {r['status']}, " if r["status"] else ""
        reason = f" ({status}reason {r['reason']})" if r["reason"] or status else ""
        click.echo(f"    to {r['phone']}: {r['decision'].upper()}{reason}")
        if r["why"]:
            click.echo(f"      why: {r['why']}")
        if r["not_before"]:
            click.echo(f"      not before: {r['not_before']}")
    if report["will_be_sent"]:
        click.echo(f"warning: {report['will_be_sent']} demo message(s) may still be sent")
    else:
        click.echo("nothing was queued or scheduled: the demo leaves nothing to send")


def _fail(message: str, as_json: bool) -> NoReturn:
    if as_json:
        body = {"error": {"code": "demo_failed", "message": message, "fields": {}}}
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command()
@click.option(
    "--url", default=DEFAULT_URL, show_default=True, help="The running relay (`relay up`)."
)
@click.option("--key", default=None, help="An API key (default: var/demo_key under RELAY_HOME).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def demo(url: str, key: str | None, as_json: bool) -> None:
    """Ask the running relay what it decides, and why, for sample messages (nothing is sent)."""
    try:
        report = run_demo(url, key)
    except DemoError as exc:
        _fail(str(exc), as_json)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print(report)
    if report["will_be_sent"]:
        sys.exit(1)
