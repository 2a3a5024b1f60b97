"""roster reads: one index for the roster's filters (a filtered count is an index-only scan), and
finer planner statistics for the trigram search expressions (PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ACTIVE = sa.text("archived_at IS NULL")
# The trigram indexes of migration 0007 (index, table): with the default statistics target the
# planner estimates a name search from a 100-entry histogram and, at 100,000 creators, guesses
# ten times the matches it finds, enough to prefer reading the whole roster in name order over
# the trigram indexes. A finer histogram keeps its estimate near the real number.
TRIGRAMS = (
    ("ix_creators_display_name_trgm", "creators"),
    ("ix_creators_legal_name_trgm", "creators"),
    ("ix_platform_accounts_handle_trgm", "platform_accounts"),
)
SEARCH_STATISTICS = 1000


def upgrade() -> None:
    op.create_index(
        "ix_creators_roster_filters",
        "creators",
        ["country", "status", "niche", "manager_id"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    if op.get_bind().dialect.name == "postgresql":
        for index, _table in TRIGRAMS:
            op.execute(f"ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS {SEARCH_STATISTICS}")
        # Statistics with the new target now, rather than at the next automatic analyse.
        op.execute("ANALYZE creators, platform_accounts")
    # SQLite has neither trigram indexes nor statistics targets.


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index, _table in TRIGRAMS:
            op.execute(f"ALTER INDEX {index} ALTER COLUMN 1 SET STATISTICS -1")
    op.drop_index("ix_creators_roster_filters", table_name="creators")
