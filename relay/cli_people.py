"""Operator commands for the web cabinet's people: `relay invitations create`."""

from __future__ import annotations

import click

from relay.cli_admin import session_scope
from relay.cli_util import echo_json, fail
from relay.config import load_config
from relay.errors import RelayError


@click.group()
def invitations() -> None:
    """Invitation links to the web cabinet."""


@invitations.command("create")
@click.argument("tenant")
@click.option("--role", type=click.Choice(["owner", "manager", "viewer"]), default="owner",
              show_default=True)  # fmt: skip
@click.option("--name", default=None, help="Whom it is for (shown to the store's owners).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def create(tenant: str, role: str, name: str | None, as_json: bool) -> None:
    """A one-time link (7 days) that lets someone join TENANT with ROLE."""
    from relay.people.invitations import create_invitation
    from relay.storage.types import utcnow
    from relay.tenancy.tenants import find_tenant

    base = str(load_config()["PUBLIC_URL"]).rstrip("/")
    try:
        with session_scope(as_json) as session:
            row, token = create_invitation(
                session, find_tenant(session, tenant).id, None, role, name, utcnow()
            )
            expires = row.expires_at.isoformat()
    except RelayError as exc:
        fail(exc, as_json)
    url = f"{base}/cabinet/invite/{token}"
    if as_json:
        echo_json({"url": url, "role": role, "expires_at": expires})
    else:
        click.echo(f"invitation for a {role} (valid until {expires}, works once): {url}")


def register(main: click.Group) -> None:
    main.add_command(invitations)
