"""contacts.name_key: a case-folded copy of the name, for case-insensitive search in any script

SQLite's LIKE and lower() fold ASCII only ("анна" did not find "Анна"), and PostgreSQL's
lower() depends on the database's locale; the key is folded in Python, the same on both.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5000


def _key(text: str | None) -> str | None:
    # frozen copy of relay.storage.types.search_key as of this revision
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def upgrade() -> None:
    op.add_column("contacts", sa.Column("name_key", sa.Text(), nullable=True))
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.Text()),
    )
    conn = op.get_bind()
    fill = (
        sa.update(contacts)
        .where(contacts.c.id == sa.bindparam("b_id"))
        .values(name_key=sa.bindparam("b_key"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(contacts.c.id, contacts.c.name)
            .where(contacts.c.id > last, contacts.c.name.is_not(None))
            .order_by(contacts.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        conn.execute(fill, [{"b_id": r.id, "b_key": _key(r.name)} for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("name_key")
