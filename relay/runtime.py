"""The parts of one process that use cases are handed: config, database, Redis, queue, providers.

Use cases take a `Runtime` argument and import this module for its type only; it imports no use
case. The composition root (`relay.wiring`) builds one for the app factory, the CLI and the
worker, attaches the hooks between use cases, and keeps the process's runtime for RQ jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from relay.adapters.crypto import SecretBox
from relay.adapters.redis_conn import redis_client
from relay.adapters.throttle import Throttle
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
            # a send's rate slot counts as in flight until it ended, at most this long
            seconds = float(self.config.get("SEND_TIMEOUT_SECONDS", 25))
            self._throttle = Throttle(self.redis, in_flight_seconds=seconds)
        return self._throttle

    def session(self) -> Session:
        """A new database session (use as a context manager)."""
        return self.sessions()

    def now(self) -> Any:
        """The current time; tests replace `clock` to move time."""
        return self.clock()


def connect_runtime(config: dict[str, Any] | None = None) -> Runtime:
    """Connect the infrastructure from the environment plus overrides, with no hooks attached
    (`relay.wiring.build_runtime` attaches them)."""
    cfg = load_config(config)
    if not cfg.get("REDIS_URL"):
        raise RuntimeError(
            "RELAY_REDIS_URL is not set: start Redis (or use `relay up`, which starts an "
            "embedded one) and set RELAY_REDIS_URL=redis://127.0.0.1:6379/0"
        )
    engine = make_engine(cfg["DATABASE_URL"])
    redis = redis_client(cfg["REDIS_URL"])
    box = SecretBox(cfg["SECRET_KEY"])
    return Runtime(
        config=cfg,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=redis,
        dispatcher=Dispatcher(
            redis,
            cfg["QUEUE_NAME"],
            int(cfg["BATCH_SIZE"]),
            float(cfg["SEND_TIMEOUT_SECONDS"]),
            drain_seconds=float(cfg["DRAIN_SECONDS"]),
            coalesce=bool(cfg["DELIVERY_COALESCE"]),
        ),
        secrets=box,
        providers=ProviderRouter(redis, box, cfg["PUBLIC_URL"]),
    )
