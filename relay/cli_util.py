"""Output helpers shared by the CLI modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from relay.errors import RelayError


def fail(exc: RelayError | Exception, as_json: bool = False) -> None:
    """Print an error the way the API would, and exit 2."""
    if isinstance(exc, RelayError):
        body = exc.to_dict()
    else:
        body = {"error": {"code": "error", "message": str(exc), "fields": {}}}
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        click.echo(f"error: {body['error']['message']}", err=True)
    sys.exit(2)


def echo_json(data: Any) -> None:
    """Print JSON for scripts."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))
