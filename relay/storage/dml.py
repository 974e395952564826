"""Running data-changing statements (INSERT, UPDATE, DELETE) through a Session."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def affected_rows(session: Session, stmt: Executable) -> int:
    """Execute an INSERT, UPDATE or DELETE; the number of rows it matched."""
    # Session.execute is typed to return a Result; a DML statement's is a CursorResult
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount
