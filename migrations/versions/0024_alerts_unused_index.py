"""alerts: drop the index on opened_at, which no query uses (the lists sort by severity first, a
creator's alerts are found through their creator): every alert an evaluation opens wrote it

Revision ID: 0024_alerts_unused_index
Revises: 0023_roster_covering_sorts
Create Date: 2026-11-30 07:30:00
"""

from alembic import op


revision = "0024_alerts_unused_index"
down_revision = "0023_roster_covering_sorts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_alerts_opened_at", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"], unique=False)
