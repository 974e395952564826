"""Engine and session set-up, and migrations run from inside the package."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from relay.storage.unit_of_work import RelaySession

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    WAL lets the web process read while a worker writes; the busy timeout turns a short lock
    wait into a wait instead of an error when several processes share one file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.get_backend_name() == "postgresql":

        @event.listens_for(engine, "connect")
        def _nul_safe_text(dbapi_conn: Any, _record: Any) -> None:
            install_nul_safe_dumpers(dbapi_conn)

    return engine


def install_nul_safe_dumpers(conn: Any) -> None:
    """PostgreSQL text cannot hold NUL (0x00), which clients and gateways can send; replace it
    with U+FFFD on the way in, so a stray NUL is recorded visibly instead of failing the
    transaction (SQLite stores it as is)."""
    text_dumper, binary_dumper = _nul_safe_dumpers()
    conn.adapters.register_dumper(str, text_dumper)
    conn.adapters.register_dumper(str, binary_dumper)


@lru_cache(maxsize=1)
def _nul_safe_dumpers() -> tuple[type, type]:
    # the pure-Python dumpers: psycopg's C ones cannot be subclassed
    from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

    class NulSafeText(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)

    class NulSafeBinary(StrBinaryDumper):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)

    return NulSafeText, NulSafeBinary


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (ids are read after the transaction),
    each with the outbox of its transaction (`relay.storage.unit_of_work`)."""
    return sessionmaker(bind=engine, class_=RelaySession, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config pointing at the packaged migrations and the given database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (creating a SQLite file if needed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RELAY_ALEMBIC_QUIET", "1")
    command.upgrade(alembic_config(url), revision)


def schema_problem(url: str) -> str | None:
    """Why the database at `url` cannot be used as it is (missing, unreachable, not migrated
    to this relay's schema), or None when it is ready. Creates nothing, not even a file."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return f"there is no database at {parsed.database}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot open the database at {shown}: {reason}"
    finally:
        engine.dispose()
    scripts = ScriptDirectory.from_config(alembic_config(url))
    head = scripts.get_current_head()
    if current == head:
        return None
    if current is None:
        return f"the database at {shown} has no relay schema"
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current not in known:
        return f"the database at {shown} is at revision {current}, newer than this relay ({head})"
    return f"the database at {shown} is at revision {current}, this relay needs {head}"


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
