"""Output helpers shared by the CLI modules."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click

from relay.errors import RelayError


def fail(exc: RelayError | Exception, as_json: bool = False, code: int = 2) -> NoReturn:
    """Print an error the way the API would, and exit 2 (or `code`)."""
    if isinstance(exc, RelayError):
        body = exc.to_dict()
    else:
        body = {"error": {"code": "error", "message": str(exc), "fields": {}}}
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        click.echo(f"error: {body['error']['message']}", err=True)
    sys.exit(code)


def echo_json(data: Any) -> None:
    """Print JSON for scripts."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))


def require_database(as_json: bool = False) -> None:
    """Exit 1 with what to do when the configured database is missing or not migrated (a
    command on it would otherwise end in a traceback); checked before anything is created."""
    from relay.config import configured_database_url, relay_home
    from relay.storage.db import schema_problem

    problem = schema_problem(configured_database_url())
    if problem is None:
        return
    hint = "run `relay db upgrade`"
    if not os.environ.get("RELAY_DATABASE_URL"):
        hint += f" (files are found from RELAY_HOME, now {relay_home()})"
    message = f"{problem}: {hint}"
    if as_json:
        body = {"error": {"code": "database_not_ready", "message": message, "fields": {}}}
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)
