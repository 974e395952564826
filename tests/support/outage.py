"""A database outage inside one test process: the runtime's engine points at nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine

from relay.runtime import Runtime


@contextmanager
def database_down(rt: Runtime, tmp_path: Path) -> Iterator[None]:
    """Every new session and health check fails to connect until the block ends."""
    real = rt.engine
    dead = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'gone.db'}")
    rt.engine = dead
    rt.sessions.configure(bind=dead)
    try:
        yield
    finally:
        rt.engine = real
        rt.sessions.configure(bind=real)
        dead.dispose()
