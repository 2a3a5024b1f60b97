"""diversification in SQL: platform income apart from off-platform income, the effective number
of sources, a digest so unchanged mixes write nothing; totals widened

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        batch_op.alter_column("total", existing_type=sa.Numeric(16, 2), type_=sa.Numeric(20, 2))
        batch_op.alter_column("previous_total", existing_type=sa.Numeric(16, 2), type_=sa.Numeric(20, 2))
        batch_op.add_column(sa.Column("platform_total", sa.Numeric(20, 2), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("effective_sources", sa.Numeric(8, 2), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.Text(), nullable=True))
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        batch_op.alter_column("platform_total", server_default=None)
    if postgres:
        # Compared and read as documents (JSONB has equality).
        for column in ("by_source", "by_platform"):
            op.execute(f"ALTER TABLE diversification_snapshots ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("by_source", "by_platform"):
            op.execute(f"ALTER TABLE diversification_snapshots ALTER COLUMN {column} TYPE json USING {column}::json")
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        batch_op.drop_column("digest")
        batch_op.drop_column("effective_sources")
        batch_op.drop_column("platform_total")
        batch_op.alter_column("previous_total", existing_type=sa.Numeric(20, 2), type_=sa.Numeric(16, 2))
        batch_op.alter_column("total", existing_type=sa.Numeric(20, 2), type_=sa.Numeric(16, 2))
