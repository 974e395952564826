"""Configuration from the environment (prefix `RELAY_`), overridable by `create_app(config)`."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any


def relay_home() -> Path:
    """The one folder the relay's own files are found from: RELAY_HOME, default the current
    folder. Under its `var/`: the SQLite database, the generated secret key, the embedded
    Redis and the demo tenant's key; so any `relay` command finds them from any folder."""
    return Path(os.environ.get("RELAY_HOME") or ".").expanduser().resolve()


def _var_dir() -> Path:
    # RELAY_VAR_DIR (older, undocumented) still wins; relative to RELAY_HOME
    return relay_home() / os.environ.get("RELAY_VAR_DIR", "var")


VAR_DIR = _var_dir()

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: SQLite file under VAR_DIR
    "REDIS_URL": None,  # default: the embedded Redis started by `relay up`
    "SENTRY_DSN": None,
    "ADMIN_TOKEN": None,
    "PUBLIC_URL": "http://127.0.0.1:8000",
    # where short links point (docs/architecture.md, 'Growth'); default: PUBLIC_URL
    "LINK_DOMAIN": None,
    "SECRET_KEY": None,
    "QUEUE_NAME": "relay",
    "MAX_BODY_BYTES": 256 * 1024,
    "BATCH_SIZE": 200,  # message ids per delivery job, and per take off the pending list
    # a drain job starts new batches for this long, then leaves the rest to a fresh job
    "DRAIN_SECONDS": 10,
    # due ids go on the pending list and drain jobs take them in batches; off, each commit's
    # due ids are their own jobs (docs/architecture.md, "Delivery")
    "DELIVERY_COALESCE": True,
    # ids a worker claims at a time within a job: a killed worker strands at most these
    "DELIVERY_WINDOW": 25,
    # a window of claims grows while it is sent in under half of this, so a killed worker
    # strands about this long of sends (relay/delivery/delivery.py)
    "DELIVERY_WINDOW_SECONDS": 1.0,
    # the longest one send may take (connect 5 s + the HTTP adapters' default read timeout
    # 20 s): a delivery job's RQ timeout is BATCH_SIZE times this, plus a margin
    "SEND_TIMEOUT_SECONDS": 25,
    # a send attempt older than this with no answer is asked about / becomes `unknown`; a
    # claim this old that never reached the gateway is re-queued
    "STALE_SENDING_SECONDS": 300,
    "SWEEP_INTERVAL_SECONDS": 30,
    # a due message whose queue entry nobody took for this long is put on the queue again
    "REQUEUE_GRACE_SECONDS": 60,
    "MAX_ATTEMPTS": 5,
    "MAX_UPLOAD_BYTES": 50 * 1024 * 1024,  # address books, stop-lists, consent imports
    "UPLOAD_DIR": None,  # default: VAR_DIR/uploads
    "LOG_LEVEL": "INFO",
    # API rate limits (relay/api/ratelimit.py); a tenant's `api_rate_limit` setting overrides
    # the per-key one for its keys
    "RATE_LIMIT_PER_KEY": "50/second",
    "RATE_LIMIT_PER_IP": "20/second",
    "RATE_LIMIT_WEBHOOK": "500/second",
    # per-connector settings, e.g. {"bitrix24": {"client_id": …, "client_secret": …}}:
    # RELAY_CONNECTORS holds it as JSON
    "CONNECTORS": {},
    # tariffs per channel / country / operator: RELAY_TARIFFS as JSON (see relay/messages/cost.py)
    "TARIFFS": {},
    # the web cabinet: who may sign up (open | invite | closed; `relay up` makes it open),
    # and how long a login session lives idle and at most
    "SIGNUP": "closed",
    "CABINET_IDLE_MINUTES": 60,
    "CABINET_SESSION_HOURS": 12,
    # the intake spool (relay/intake/spool.py): where requests wait while the database is
    # down (default VAR_DIR/spool), its size bound, how long a key or webhook secret read from
    # the database may still admit a request into it, and how often it is replayed
    "SPOOL_DIR": None,
    "SPOOL_MAX_MB": 64,
    "SPOOL_TRUST_SECONDS": 3600,
    "SPOOL_REPLAY_SECONDS": 5,
    # proxies in front of the web server whose X-Forwarded-For is trusted (per-IP limits)
    "PROXY_HOPS": 0,
}


def _coerce(default: Any, raw: str) -> Any:
    """Environment values are strings; give them the type of the default."""
    if isinstance(default, dict):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"expected a JSON object, got {raw[:40]!r}") from exc
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {raw[:40]!r}")
        return value
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"expected a whole number, got {raw!r}") from exc
    return raw


def secret_key_from_file() -> str:
    """A persistent secret under VAR_DIR for the zero-set-up default (never for production)."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def default_database_url() -> str:
    """The zero-set-up database: a SQLite file under VAR_DIR."""
    return f"sqlite:///{VAR_DIR / 'relay.db'}"


def configured_database_url() -> str:
    """RELAY_DATABASE_URL or the default, without load_config's side effects (it generates
    a secret key file): what commands check before they touch anything."""
    return os.environ.get("RELAY_DATABASE_URL") or default_database_url()


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then `RELAY_*` environment variables, then explicit overrides."""
    cfg = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"RELAY_{key}")
        if raw not in (None, ""):
            try:
                cfg[key] = _coerce(default, raw) if default is not None else raw
            except ValueError as exc:
                raise ValueError(f"RELAY_{key}: {exc}") from exc
    if overrides:
        cfg.update({k.removeprefix("RELAY_"): v for k, v in overrides.items()})
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = default_database_url()
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = secret_key_from_file()
    if not cfg["SPOOL_DIR"]:
        cfg["SPOOL_DIR"] = str(VAR_DIR / "spool")
    return cfg
