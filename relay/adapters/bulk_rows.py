"""Writing many rows in one go: COPY on PostgreSQL, a multi-row INSERT elsewhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        copy_rows(session, table, rows)
    else:
        session.execute(insert(table), rows)


def copy_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """COPY rows into a PostgreSQL table on the session's connection (same transaction).

    An executemany INSERT spends most of its time binding 30 parameters per row; COPY streams
    the values instead (about ten times faster for a chunk). Values pass through the columns'
    own bind processors first, so JSON and UTC times are stored exactly as an INSERT would.
    """
    columns = [c for c in table.columns if c.name in rows[0]]
    dialect = session.get_bind().dialect
    processors = [c.type.bind_processor(dialect) for c in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    raw = session.connection().connection.driver_connection
    if raw is None:  # only a connection already given back to the pool has none
        raise RuntimeError("the session's connection has no driver connection")
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    proc(row[c.name]) if proc else row[c.name]
                    for c, proc in zip(columns, processors, strict=True)
                ]
            )
