"""Operator commands: tenants, keys, providers, senders, flows, numbering registry, archive.

Over 300 lines because it holds one short function per command; they stay together so that
`register` puts them all on `relay` in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from relay.cli_util import echo_json, fail, require_database
from relay.config import load_config
from relay.errors import RelayError


@contextmanager
def session_scope(as_json: bool = False) -> Iterator[Session]:
    """A committed-on-success session on the configured database (no Redis needed); exits 1
    with "run `relay db upgrade`" when the database is missing or not migrated."""
    from relay.compliance.chain import install
    from relay.storage.db import make_engine, make_session_factory

    install()  # records written from the command line join their chain too
    require_database(as_json)
    engine = make_engine(load_config()["DATABASE_URL"])
    session = make_session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def register(main: click.Group) -> None:
    """Attach the command groups to `relay`."""
    main.add_command(tenants)
    main.add_command(keys)
    main.add_command(providers)
    main.add_command(senders)
    main.add_command(flows)
    main.add_command(numbering)
    main.add_command(archive)
    main.add_command(erase)


@click.group()
def tenants() -> None:
    """Tenants (stores, sales teams)."""


@tenants.command("create")
@click.argument("name")
@click.option("--region", required=True, help="Default phone region: RU, BY or KZ.")
@click.option("--timezone", default=None, help="IANA zone of the store (default by region).")
@click.option("--json", "as_json", is_flag=True)
def tenants_create(name: str, region: str, timezone: str | None, as_json: bool) -> None:
    """Create a tenant."""
    from relay.content.flowdefs import default_flows, load_flows
    from relay.tenancy.tenants import create_tenant

    try:
        with session_scope(as_json) as s:
            t = create_tenant(s, name, region, timezone)
            load_flows(s, t, default_flows())
            out = {"id": t.id, "name": t.name, "region": t.region, "timezone": t.timezone}
    except RelayError as exc:
        fail(exc, as_json)
    echo_json(out) if as_json else click.echo(f"tenant {out['name']} created: {out['id']}")


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def tenants_list(as_json: bool) -> None:
    """List tenants as JSON lines (--json: one document, {"tenants": [...]})."""
    from relay.storage.models import Tenant

    with session_scope(as_json) as s:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "region": t.region,
                "timezone": t.timezone,
                "status": t.status,
            }
            for t in s.scalars(select(Tenant).order_by(Tenant.created_at))
        ]
    if as_json:
        echo_json({"tenants": rows})
        return
    for row in rows:
        echo_json(row)


@tenants.command("set-providers")
@click.argument("tenant")
@click.argument("names", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def tenants_set_providers(tenant: str, names: tuple[str, ...], as_json: bool) -> None:
    """Set a tenant's gateways, in order of preference (the first is preferred)."""
    from relay.storage.models import Provider, TenantProvider
    from relay.tenancy.tenants import find_tenant

    try:
        with session_scope(as_json) as s:
            t = find_tenant(s, tenant)
            tenant_id = t.id
            rows = []
            for name in names:
                row = s.scalar(select(Provider).where(Provider.name == name))
                if row is None:
                    raise RelayError("provider_not_found", f"no provider named {name!r}", 404)
                rows.append(row)
            s.execute(delete(TenantProvider).where(TenantProvider.tenant_id == t.id))
            for pos, row in enumerate(rows):
                s.add(TenantProvider(tenant_id=t.id, provider_id=row.id, position=pos))
    except RelayError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json({"tenant_id": tenant_id, "tenant": tenant, "providers": list(names)})
    else:
        click.echo(f"{tenant}: {' → '.join(names)}")


@click.group()
def keys() -> None:
    """Tenant API keys."""


@keys.command("create")
@click.argument("tenant")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="events:write, messages:read or admin (repeatable).",
)
@click.option("--name", default=None)
@click.option("--json", "as_json", is_flag=True)
def keys_create(tenant: str, scopes: tuple[str, ...], name: str | None, as_json: bool) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from relay.tenancy.tenants import create_key, find_tenant

    try:
        with session_scope(as_json) as s:
            row, key = create_key(s, find_tenant(s, tenant), list(scopes), name)
            out = {
                "id": row.id,
                "key": key,
                "prefix": row.prefix,
                "scopes": row.scopes,
                "tenant_id": row.tenant_id,
            }
    except RelayError as exc:
        fail(exc, as_json)
    echo_json(out) if as_json else click.echo(out["key"])


@click.group()
def providers() -> None:
    """Gateway accounts."""


@providers.command("add")
@click.argument("name")
@click.option("--type", "type_name", required=True)
@click.option("--config", "config_json", required=True, help="JSON object of settings.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def providers_add(name: str, type_name: str, config_json: str, as_json: bool) -> None:
    """Add (or replace) a gateway; credentials are encrypted at rest."""
    from relay.gateways.provider_admin import save_provider

    try:
        config = json.loads(config_json)
    except ValueError as exc:
        fail(RelayError("malformed_json", f"--config is not valid JSON: {exc}", 400), as_json)
    try:
        with session_scope(as_json) as s:
            out = save_provider(s, name, type_name, config)
    except RelayError as exc:
        fail(exc, as_json)
    echo_json(out)  # JSON either way (one document); --json is accepted for uniformity


@providers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def providers_list(as_json: bool) -> None:
    """List gateways (credentials masked) as JSON lines (--json: {"providers": [...]})."""
    from relay.gateways.provider_admin import list_providers

    with session_scope(as_json) as s:
        rows = list(list_providers(s))
    if as_json:
        echo_json({"providers": rows})
        return
    for row in rows:
        echo_json(row)


@providers.command("check")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def providers_check(name: str, as_json: bool) -> None:
    """Call the gateway's balance or auth endpoint with the stored credentials."""
    from relay.adapters.crypto import SecretBox
    from relay.providers import build_provider
    from relay.providers.base import ProviderError
    from relay.storage.models import Provider

    with session_scope(as_json) as s:
        row = s.scalar(select(Provider).where(Provider.name == name))
        if row is None:
            fail(RelayError("provider_not_found", f"no provider named {name!r}", 404), as_json)
        config = SecretBox(load_config()["SECRET_KEY"]).open(row.config_encrypted)
        config.pop("rate", None)
        type_name = row.type
    provider = build_provider(name, type_name, config)
    try:
        result = provider.check()
    except ProviderError as exc:
        fail(RelayError(f"provider_{exc.kind}", f"{name}: {exc.code}: {exc.message}", 502), as_json)
    finally:
        getattr(provider, "close", lambda: None)()
    echo_json({"name": name, "type": type_name, "ok": True, "result": result})


@click.group()
def senders() -> None:
    """Sender names (only active names may send)."""


@senders.command("set")
@click.argument("tenant")
@click.argument("name")
@click.option("--channel", type=click.Choice(["sms", "viber"]), default="sms", show_default=True)
@click.option(
    "--state",
    type=click.Choice(["requested", "active", "rejected"]),
    default="requested",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def senders_set(tenant: str, name: str, channel: str, state: str, as_json: bool) -> None:
    """Register a sender name for a tenant, or change its state."""
    from relay.policy import sender_name_problem
    from relay.storage.models import SenderName
    from relay.tenancy.tenant_cache import TENANT_CONFIG
    from relay.tenancy.tenants import find_tenant

    problem = sender_name_problem(channel, name)
    if problem:
        fail(RelayError("invalid_sender_name", problem, 422), as_json)
    try:
        with session_scope(as_json) as s:
            t = find_tenant(s, tenant)
            row = s.scalar(
                select(SenderName).where(
                    SenderName.tenant_id == t.id,
                    SenderName.channel == channel,
                    SenderName.name == name,
                )
            )
            if row is None:
                row = SenderName(tenant_id=t.id, channel=channel, name=name)
                s.add(row)
            row.state = state
            s.flush()
            out = {"id": row.id, "tenant_id": t.id, "channel": channel, "name": name}
            out["state"] = state
            TENANT_CONFIG.invalidate(t.id)
    except RelayError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json(out)
    else:
        click.echo(f"{tenant}: {channel} sender {name!r} is {state}")


@click.group()
def flows() -> None:
    """A tenant's flows and templates."""


@flows.command("load")
@click.argument("tenant")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def flows_load(tenant: str, file: Path, as_json: bool) -> None:
    """Load templates and flows from a JSON file (all or nothing)."""
    from relay.content.flowdefs import load_flows
    from relay.tenancy.tenants import find_tenant

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        fail(RelayError("malformed_json", f"{file} is not valid JSON: {exc}", 400), as_json)
    try:
        with session_scope(as_json) as s:
            counts = load_flows(s, find_tenant(s, tenant), doc)
    except RelayError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json({"tenant": tenant, "templates": counts["templates"], "flows": counts["flows"]})
    else:
        click.echo(f"loaded {counts['templates']} templates and {counts['flows']} flows")


@click.group()
def numbering() -> None:
    """The national numbering registry (narrows a mobile number to its region's zone)."""


@numbering.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def numbering_import(files: tuple[Path, ...], as_json: bool) -> None:
    """Import Russian DEF/ABC range files (CSV, ';'); replaces ranges of the same codes."""
    from relay.policy.numbering import iter_ranges
    from relay.storage.models import NumberRange

    total = 0
    report = []
    with session_scope(as_json) as s:
        for path in files:
            with path.open("rb") as fh:
                ranges = list(iter_ranges(fh))
            codes = {r.prefix_code for r in ranges}
            for code in codes:
                lo, hi = int(code) * 10**7, int(code) * 10**7 + 10**7 - 1
                s.execute(
                    delete(NumberRange).where(
                        NumberRange.country == "RU",
                        NumberRange.start >= lo,
                        NumberRange.start <= hi,
                    )
                )
            rows = [
                {
                    "country": "RU",
                    "start": r.start,
                    "end": r.end,
                    "operator": r.operator[:255],
                    "region_code": r.region_code,
                    "timezone": r.timezone,
                }
                for r in ranges
            ]
            for i in range(0, len(rows), 5000):
                s.execute(insert(NumberRange), rows[i : i + 5000])
                click.echo(f"{path.name}: {min(i + 5000, len(rows))}/{len(rows)} ranges", err=True)
            zoned = sum(1 for r in ranges if r.timezone)
            report.append({"file": path.name, "ranges": len(ranges), "with_timezone": zoned})
            if not as_json:
                click.echo(f"{path.name}: {len(ranges)} ranges, {zoned} with a time zone")
            total += len(ranges)
    if as_json:
        echo_json({"files": report, "imported": total})
    else:
        click.echo(f"imported {total} ranges")


@click.group()
def archive() -> None:
    """The message archive (messages older than 12 months)."""


@archive.command("run")
@click.option("--older-than-days", default=365, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def archive_run(older_than_days: int, batch: int, as_json: bool) -> None:
    """Move old messages to messages_archive, one transaction per batch."""
    from datetime import UTC, datetime

    from relay.compliance.archive import archive_messages
    from relay.compliance.chain import install
    from relay.storage.db import make_engine, make_session_factory

    install()  # records written from the command line join their chain too
    require_database(as_json)
    engine = make_engine(load_config()["DATABASE_URL"])
    try:
        report = archive_messages(
            make_session_factory(engine), datetime.now(UTC), older_than_days, batch
        )
    finally:
        engine.dispose()
    echo_json({"moved": report.moved, "batches": report.batches})  # JSON either way


@click.command()
@click.argument("phone")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant id or name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def erase(phone: str, tenant_ref: str, as_json: bool) -> None:
    """Erase one phone number for a tenant (152-FZ / GDPR): contacts deleted, texts emptied,
    the number kept only as a salted hash that stays on the stop-list; audited."""
    from datetime import UTC, datetime

    from relay.compliance.erasure import erase_phone
    from relay.tenancy.tenant_phones import tenant_phone
    from relay.tenancy.tenants import find_tenant

    try:
        with session_scope(as_json) as s:
            tenant = find_tenant(s, tenant_ref)
            number = tenant_phone(tenant, phone, "phone")
            report = erase_phone(s, tenant, number, actor="cli", now=datetime.now(UTC))
    except RelayError as exc:
        fail(exc, as_json)
    from relay.growth.links import forget_links
    from relay.wiring import get_runtime

    forget_links(get_runtime().redis, report.pop("link_tokens"))
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"erased for {tenant_ref}: {report['contacts_deleted']} contacts deleted, "
        f"{report['messages_anonymised']} messages and {report['replies_anonymised']} replies "
        f"anonymised, {report['events_erased']} events erased; the number stays blocked as "
        f"{report['token']} (consent evidence kept under it)"
    )
