"""delivery: a claim token and an "attempt started" marker on messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 12:00:00.000000

A worker claims messages in small windows under a token and marks each message just before
calling the gateway, so the sweeper can tell a claim that never left (re-queued) from one the
gateway may have (asked, or `unknown`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("attempt_started_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attempt_started_at")
        batch.drop_column("claim_token")
