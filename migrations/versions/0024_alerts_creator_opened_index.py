"""alerts: one index on (creator_id, opened_at) replaces the two single-column ones

A creator's alerts, newest first (the creator page, the portal), are read from the one index
without a sort; it still covers the foreign key to creators and a chunk's alerts (an evaluation
reads them by creator id range). The alerts a run opened are matched through the open-alert dedup
index and the chunk's creators, so nothing reads opened_at alone. Every alert written now updates
four indexes instead of five.

Revision ID: 0024_alerts_creator_opened_index
Revises: 0023_roster_covering_sorts
Create Date: 2026-11-30 10:40:00
"""

from alembic import op


revision = "0024_alerts_creator_opened_index"
down_revision = "0023_roster_covering_sorts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_creator_id_opened_at", "alerts", ["creator_id", "opened_at"])
    op.drop_index("ix_alerts_creator_id", table_name="alerts")
    op.drop_index("ix_alerts_opened_at", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_index("ix_alerts_creator_id", "alerts", ["creator_id"])
    op.drop_index("ix_alerts_creator_id_opened_at", table_name="alerts")
