"""`relay compliance …`: verify the tamper-evident ledger, sign its daily digests, publish the
public key, and export a number's evidence pack."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from relay.cli_util import echo_json, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def register(main: click.Group) -> None:
    """Attach `relay compliance` to `relay`."""
    main.add_command(compliance)


@click.group()
def compliance() -> None:
    """The tamper-evident ledger and evidence packs."""


def _secret() -> str:
    from relay.config import load_config

    return str(load_config()["SECRET_KEY"])


def _tenant_id(session: Session, name_or_id: str) -> str:
    from sqlalchemy import or_, select

    from relay.errors import RelayError
    from relay.storage.models import Tenant

    found = session.scalar(
        select(Tenant.id).where(or_(Tenant.id == name_or_id, Tenant.name == name_or_id))
    )
    if found is None:
        raise RelayError("tenant_not_found", f"no tenant {name_or_id!r}", 404)
    return str(found)


@compliance.command("verify")
@click.option("--tenant", default=None, help="Name or id of one tenant (default: every chain).")
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(tenant: str | None, as_json: bool) -> None:
    """Recompute the hash chains and check the signed digests; exit 1 when one is broken,
    naming the first record that was edited, inserted or deleted."""
    from relay.cli_admin import session_scope
    from relay.compliance.digests import verify_all
    from relay.errors import RelayError

    try:
        with session_scope(as_json) as s:
            chain = _tenant_id(s, tenant) if tenant else None
            reports = [r.to_dict() for r in verify_all(s, _secret(), chain)]
    except RelayError as exc:
        fail(exc, as_json)
    ok = all(r["ok"] for r in reports)
    if as_json:
        echo_json({"ok": ok, "chains": reports})
    else:
        if not reports:
            click.echo("no records: nothing to verify (ok)")
        for r in reports:
            if r["ok"]:
                click.echo(
                    f"{r['tenant']}: ok — {r['records']} records, head {r['head_seq']} "
                    f"{r['head_hash'][:16]}…, {r['digests_checked']} signed digests agree"
                )
            else:
                p = r["problem"]
                where = f"{p['table']} #{p['id']}" if p["table"] else "the chain's end"
                click.echo(
                    f"{r['tenant']}: BROKEN — {p['kind']}: {where} (place {p['seq']}): "
                    f"{p['detail']}"
                )
    sys.exit(0 if ok else 1)


@compliance.command("digest")
@click.option("--tenant", default=None, help="Name or id of one tenant (default: every chain).")
@click.option("--json", "as_json", is_flag=True)
def digest_cmd(tenant: str | None, as_json: bool) -> None:
    """Sign today's head of every chain (run daily, e.g. from cron); prints the new digests."""
    from datetime import UTC, datetime

    from relay.cli_admin import session_scope
    from relay.compliance.digests import digest_dict, make_digests, public_key_hex
    from relay.errors import RelayError

    secret = _secret()
    try:
        with session_scope(as_json) as s:
            chain = _tenant_id(s, tenant) if tenant else None
            made = make_digests(s, secret, datetime.now(UTC), chain)
            out = [digest_dict(d, public_key_hex(secret)) for d in made]
    except RelayError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json({"digests": out})
    else:
        for d in out:
            click.echo(f"{d['chain']} {d['day']} seq {d['seq']} {d['hash']} sig {d['signature']}")
        if not out:
            click.echo("every chain already has today's digest")


@compliance.command("public-key")
@click.option("--json", "as_json", is_flag=True)
def public_key_cmd(as_json: bool) -> None:
    """The Ed25519 public key that verifies the digests (hex, raw 32 bytes)."""
    from relay.compliance.digests import key_id, public_key_hex

    public = public_key_hex(_secret())
    if as_json:
        echo_json({"public_key": public, "key_id": key_id(public), "algorithm": "Ed25519"})
    else:
        click.echo(public)


@compliance.command("evidence")
@click.argument("phone")
@click.option("--tenant", required=True, help="Name or id of the tenant.")
@click.option("--lang", type=click.Choice(["ru", "en"]), default="ru", show_default=True)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the PDF here (and the JSON beside it, .json); default: JSON to stdout.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout (the default without --out).")
def evidence_cmd(phone: str, tenant: str, lang: str, out: str | None, as_json: bool) -> None:
    """The evidence pack of one number: a PDF (ru or en) and the same data as JSON."""
    import json
    from datetime import UTC, datetime
    from pathlib import Path

    from relay.cli_admin import session_scope
    from relay.compliance.evidence_pack import evidence_pack, evidence_pdf
    from relay.errors import RelayError
    from relay.storage.models import Tenant
    from relay.tenancy.tenant_phones import tenant_phone

    try:
        with session_scope(as_json) as s:
            row = s.get(Tenant, _tenant_id(s, tenant))
            assert row is not None  # _tenant_id found it
            number = tenant_phone(row, phone)
            doc = evidence_pack(s, row, number, datetime.now(UTC), _secret())
    except (RelayError, ValueError) as exc:
        fail(exc, as_json)
    if out:
        pdf_path = Path(out)
        pdf_path.write_bytes(evidence_pdf(doc, lang))
        json_path = pdf_path.with_suffix(".json")
        json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        if as_json:
            echo_json({"pdf": str(pdf_path), "json": str(json_path)})
        else:
            click.echo(f"{pdf_path}\n{json_path}")
        return
    echo_json(doc)
