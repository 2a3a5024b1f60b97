"""alerts: one unique index of the open alerts by (creator, dedup key) replaces the unique index
of their dedup keys and the index of their creators. A dedup key names its creator
("kind:creator id:subject"), so one open alert per key holds as before; each evaluation reads a
chunk's open alerts (a creator id range) through the new index, and every alert written is entered
in one index fewer (266,581 alerts at 100,000 creators inserted into copies of the table: 2.26 s
with the two indexes, 2.02 s with the one)

Revision ID: 0030_alerts_open_key_by_creator
Revises: 0029_alerts_open_by_creator
Create Date: 2026-12-01 06:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0030_alerts_open_key_by_creator"
down_revision = "0029_alerts_open_by_creator"
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'resolved'")


def upgrade() -> None:
    op.create_index(
        "uq_alerts_open_creator_dedup_key",
        "alerts",
        ["creator_id", "dedup_key"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.drop_index("uq_alerts_open_dedup_key", table_name="alerts")
    op.drop_index("ix_alerts_open_creator_id", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_open_creator_id", "alerts", ["creator_id"], postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index(
        "uq_alerts_open_dedup_key", "alerts", ["dedup_key"], unique=True, postgresql_where=OPEN, sqlite_where=OPEN
    )
    op.drop_index("uq_alerts_open_creator_dedup_key", table_name="alerts")
