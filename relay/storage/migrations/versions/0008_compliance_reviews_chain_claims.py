"""compliance: opt-out reviews, the stop-list's history, write-back claims, the hash chain

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00.000000

(Re-chained after the cabinet's 0007 at merge: only `down_revision` changes.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _chain_columns() -> list[sa.Column]:
    return [
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("chain_prev", sa.String(length=64), nullable=True),
        sa.Column("chain_hash", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "optout_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_optout_reviews_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_optout_reviews")),
    )
    op.create_index(
        "ix_optout_reviews_tenant_status", "optout_reviews", ["tenant_id", "status", "id"]
    )
    op.create_table(
        "stoplist_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        *_chain_columns(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_stoplist_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stoplist_changes")),
    )
    op.create_index("ix_stoplist_changes_phone", "stoplist_changes", ["tenant_id", "phone", "id"])
    # the history starts with the entries there are
    op.execute(
        "INSERT INTO stoplist_changes (tenant_id, action, entry_id, phone, channel, source, note,"
        " actor, at) SELECT tenant_id, 'add', id, phone, channel, source, note, source,"
        " created_at FROM stoplist_entries"
    )

    op.create_table(
        "writeback_claims",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_writeback_claims")),
    )
    for table in ("consent_records", "audit_log"):
        for column in _chain_columns():
            op.add_column(table, column)
    for table in ("consent_records", "audit_log", "stoplist_changes"):
        op.create_index(f"ix_{table}_chain", table, ["tenant_id", "chain_seq"])
    op.create_table(
        "ledger_heads",
        sa.Column("tenant_key", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_key", name=op.f("pk_ledger_heads")),
    )
    op.create_table(
        "ledger_digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_key", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_digests")),
        sa.UniqueConstraint("tenant_key", "day", name=op.f("uq_ledger_digests_tenant_key")),
    )


def downgrade() -> None:
    op.drop_table("ledger_digests")
    op.drop_table("ledger_heads")
    for table in ("consent_records", "audit_log", "stoplist_changes"):
        op.drop_index(f"ix_{table}_chain", table_name=table)
    for table in ("consent_records", "audit_log"):
        with op.batch_alter_table(table) as batch:
            for name in ("chain_hash", "chain_prev", "chain_seq"):
                batch.drop_column(name)
    op.drop_table("writeback_claims")
    op.drop_index("ix_stoplist_changes_phone", table_name="stoplist_changes")
    op.drop_table("stoplist_changes")
    op.drop_index("ix_optout_reviews_tenant_status", table_name="optout_reviews")
    op.drop_table("optout_reviews")
