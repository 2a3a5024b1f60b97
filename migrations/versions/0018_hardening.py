"""income-mix totals wide enough for any sum of accepted amounts

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TOTALS = ("total", "previous_total", "platform_total")


def upgrade() -> None:
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        for name in TOTALS:
            batch_op.alter_column(name, existing_type=sa.Numeric(21, 3), type_=sa.Numeric(38, 3))


def downgrade() -> None:
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        for name in TOTALS:
            batch_op.alter_column(name, existing_type=sa.Numeric(38, 3), type_=sa.Numeric(21, 3))
