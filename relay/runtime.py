"""The wired-together parts of one process: config, database, Redis, queue, providers.

The app factory, the CLI and the worker build one Runtime; RQ jobs find the worker's through
`get_runtime()`, since a job receives ids only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from relay.adapters.crypto import SecretBox
from relay.adapters.redis_conn import redis_client
from relay.config import load_config
from relay.delivery.queue import Dispatcher
from relay.providers.router import ProviderRouter
from relay.storage.db import make_engine, make_session_factory
from relay.storage.types import utcnow


@dataclass
class Runtime:
    """Everything a use case needs from the outside world."""

    config: dict[str, Any]
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    dispatcher: Dispatcher
    secrets: SecretBox
    providers: ProviderRouter
    clock: Callable[[], Any] = field(default=utcnow)
    writebacks: dict[str, Any] = field(default_factory=dict)  # platform → Writeback
    _throttle: Any = None

    @property
    def throttle(self) -> Any:
        """The shared rate limiter (created on first use)."""
        if self._throttle is None:
            from relay.adapters.throttle import Throttle

            self._throttle = Throttle(self.config["REDIS_URL"])
        return self._throttle

    def session(self) -> Session:
        """A new database session (use as a context manager)."""
        return self.sessions()

    def now(self) -> Any:
        """The current time; tests replace `clock` to move time."""
        return self.clock()


def build_runtime(config: dict[str, Any] | None = None) -> Runtime:
    """Build a runtime from the environment plus overrides."""
    cfg = load_config(config)
    if not cfg.get("REDIS_URL"):
        raise RuntimeError(
            "RELAY_REDIS_URL is not set: start Redis (or use `relay up`, which starts an "
            "embedded one) and set RELAY_REDIS_URL=redis://127.0.0.1:6379/0"
        )
    engine = make_engine(cfg["DATABASE_URL"])
    redis = redis_client(cfg["REDIS_URL"])
    box = SecretBox(cfg["SECRET_KEY"])
    sessions = make_session_factory(engine)
    runtime = Runtime(
        config=cfg,
        engine=engine,
        sessions=sessions,
        redis=redis,
        dispatcher=Dispatcher(redis, cfg["QUEUE_NAME"], int(cfg["BATCH_SIZE"])),
        secrets=box,
        providers=ProviderRouter(redis, box, cfg["PUBLIC_URL"]),
    )
    from relay.platforms.writeback import watch_status_changes
    from relay.replies.inbound import gateway_hooks

    runtime.providers.hooks = lambda name: gateway_hooks(runtime, name)
    watch_status_changes(runtime)
    return runtime


_RUNTIME: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    """Install the process-wide runtime (worker start-up, tests)."""
    global _RUNTIME
    _RUNTIME = runtime


def get_runtime() -> Runtime:
    """The process-wide runtime, built from the environment on first use."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = build_runtime()
        os.environ.setdefault("RELAY_REDIS_URL", _RUNTIME.config["REDIS_URL"])
        from relay.platforms.connectors_host import install_connectors

        install_connectors(_RUNTIME)
    return _RUNTIME
