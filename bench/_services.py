"""Bench helpers: which database and Redis to use, and machine facts for the report."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/relay_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def bench_database_url() -> str:
    """RELAY_BENCH_DATABASE_URL, else a `relay_bench` database on the local PostgreSQL
    (created if missing, emptied if present)."""
    return fresh_database(os.environ.get("RELAY_BENCH_DATABASE_URL", DEFAULT_PG))


def fresh_database(url: str) -> str:
    """The database at `url` with nothing in it: created if missing, emptied if present (a
    SQLite file removed); returns the URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        name = {"name": parsed.database}
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), name)
            if exists.scalar() is None:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            else:  # what a stopped scenario left connected must not hold locks on its tables
                others = "datname = :name AND pid <> pg_backend_pid()"
                query = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}"
                conn.execute(text(query), name)
        admin.dispose()
        # emptied rather than dropped: DROP DATABASE waits for a checkpoint, which took 16 s on
        # a shared machine's busy disk, where dropping the one schema the migrations fill takes
        # well under one
        engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif parsed.database:
        Path(parsed.database).unlink(missing_ok=True)
    return url


def bench_redis_url() -> str:
    """RELAY_BENCH_REDIS_URL, else database 14 of the local Redis."""
    return os.environ.get("RELAY_BENCH_REDIS_URL", DEFAULT_REDIS)


def machine() -> str:
    """A one-line description of this machine."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split()[7]
        mem = f", {mem} GiB RAM"
    except (OSError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {model}{mem}, Python {platform.python_version()}"


def versions() -> str:
    """The installed versions that decide queue behaviour (redis-py and RQ above all)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("redis", "rq", "sqlalchemy", "psycopg"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} -")
    return ", ".join(parts)
