"""campaigns: a local sending window's end and "best hour" from each recipient's history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-22 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("local_until", sa.String(length=5), nullable=True))
        batch.add_column(
            sa.Column("best_hour", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("best_hour")
        batch.drop_column("local_until")
