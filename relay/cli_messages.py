"""`relay messages …`: an operator's decisions on messages (`resolve-unknown`)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import click

from relay.cli_admin import session_scope
from relay.cli_util import echo_json, fail
from relay.errors import RelayError


def register(main: click.Group) -> None:
    """Attach `relay messages` to `relay`."""
    main.add_command(messages)


@click.group()
def messages() -> None:
    """Messages: operator decisions."""


@messages.command("resolve-unknown")
@click.argument("ids", nargs=-1)
@click.option("--resend", "action", flag_value="resend", help="Queue them again (may duplicate).")
@click.option("--fail", "action", flag_value="fail", help="End them as failed.")
@click.option("--tenant", "tenant_ref", default=None, help="Only this tenant's (id or name).")
@click.option("--provider", default=None, help="Only those sent through this gateway.")
@click.option(
    "--before",
    default=None,
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    help="Only those `unknown` since before this time (UTC when no offset).",
)
@click.option("--actor", default=None, help="Who decides (default: the login name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def resolve_unknown_cmd(
    ids: tuple[str, ...],
    action: str | None,
    tenant_ref: str | None,
    provider: str | None,
    before: datetime | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Settle `unknown` messages (the gateway may have them): --resend or --fail, by IDS or a
    filter. Nothing is resent unless asked; who decided goes to the history and audit log."""
    from relay.delivery.resolve import resolve_unknown
    from relay.tenancy.tenants import find_tenant

    if action not in ("resend", "fail"):
        fail(ValueError("choose --resend or --fail"), as_json)
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    who = f"cli:{actor or getpass.getuser()}"
    try:
        with session_scope(as_json) as s:
            tenant_id = find_tenant(s, tenant_ref).id if tenant_ref else None
            changed = resolve_unknown(
                s,
                action="resend" if action == "resend" else "fail",
                actor=who,
                now=datetime.now(UTC),
                tenant_id=tenant_id,
                ids=ids,
                provider=provider,
                before=before,
            )
    except (RelayError, ValueError) as exc:
        fail(exc, as_json)
    if as_json:
        echo_json({"action": action, "count": len(changed), "ids": sorted(changed)})
        return
    click.echo(f"{action}: {len(changed)} unknown message(s) settled by {who}")
