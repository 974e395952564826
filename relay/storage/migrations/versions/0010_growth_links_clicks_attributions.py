"""growth: short links, clicks, attributed orders; A/B variants and local release on campaigns

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_links")),
    )
    op.create_index("ix_links_message", "links", ["message_id"])
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("client", sa.String(length=16), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_clicks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
        sa.UniqueConstraint("token", "client", "minute", name="uq_clicks_once_a_minute"),
    )
    op.create_index("ix_clicks_message", "clicks", ["message_id"])
    op.create_index("ix_clicks_tenant_at", "clicks", ["tenant_id", "at"])
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("order_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("flow_id", sa.Integer(), nullable=True),
        sa.Column("event_pk", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_attributions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributions")),
        sa.UniqueConstraint("tenant_id", "order_key", name="uq_attributions_order"),
    )
    op.create_index("ix_attributions_campaign", "attributions", ["campaign_id"])
    op.create_index("ix_attributions_message", "attributions", ["message_id"])
    op.create_table(
        "growth_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_growth_cursors")),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("variants", sa.Text(), nullable=True))
        batch.add_column(sa.Column("test_share", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("winner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("local_time", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("local_time")
        batch.drop_column("winner")
        batch.drop_column("test_share")
        batch.drop_column("variants")
    op.drop_table("growth_cursors")
    op.drop_table("attributions")
    op.drop_table("clicks")
    op.drop_table("links")
