"""`relay spool status|replay`: the intake spool from the command line.

See docs/architecture.md, 'The intake spool'. Every web process replays its own journal by
itself once the database answers; `replay` is for journals whose process is gone (a web
server that was stopped during the outage) and for an operator who does not want to wait.
"""

from __future__ import annotations

import click

from relay.cli_util import echo_json, fail


@click.group()
def spool() -> None:
    """Events and webhooks that arrived while the database was down."""


@spool.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def spool_status(as_json: bool) -> None:
    """Journals, requests waiting to be replayed, bytes used of the bound."""
    from relay.adapters.crypto import SecretBox
    from relay.config import load_config
    from relay.intake.spool import spool_from_config

    config = load_config()
    found = spool_from_config(config, SecretBox(config["SECRET_KEY"])).status()
    if as_json:
        echo_json({"dir": config["SPOOL_DIR"], **found.as_dict()})
        return
    click.echo(
        f"{found.pending} request(s) waiting in {found.journals} journal(s) under "
        f"{config['SPOOL_DIR']}; {found.bytes} of {found.max_bytes} bytes"
        + (" — FULL: intake is refused with 503" if found.full else "")
    )


@spool.command("replay")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def spool_replay(as_json: bool) -> None:
    """Send every spooled request no live process owns through the relay again (exit 1 when
    the database is still unavailable or some wait)."""
    from relay import create_app
    from relay.api.spool_http import app_spool, database_up, replay_through

    try:
        app = create_app({"SPOOL_REPLAY_SECONDS": 0})
    except Exception as exc:  # no Redis configured, a bad setting: say so
        fail(exc, as_json, 1)
    rt = app.extensions["relay"]
    if not database_up(rt):
        fail(RuntimeError("the database is still unavailable; nothing was replayed"), as_json, 1)
    report = app_spool(app).replay(replay_through(app))
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(
            f"replayed {report.replayed}, refused {report.refused}, waiting {report.waiting}"
        )
    if report.waiting:
        raise SystemExit(1)


def register(main: click.Group) -> None:
    """Add `relay spool` to the command."""
    main.add_command(spool)
