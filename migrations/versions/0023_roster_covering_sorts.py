"""roster reads: the sort indexes carry the filter columns (PostgreSQL INCLUDE), so a filtered
page finds its creators in the index alone instead of visiting every skipped row

Revision ID: 0023_roster_covering_sorts
Revises: 0022_conflicts
Create Date: 2026-11-30 04:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0023_roster_covering_sorts"
down_revision = "0022_conflicts"
branch_labels = None
depends_on = None

ACTIVE = sa.text("archived_at IS NULL")
SORTS = ("display_name", "country", "niche", "status", "created_at", "updated_at", "date_of_birth")
# What the roster filters on (agency/roster/models.py, ROSTER_FILTER_COLUMNS).
FILTERS = ["country", "status", "niche", "manager_id"]


def _recreate(include: list[str]) -> None:
    for name in SORTS:
        index = f"ix_creators_roster_{name}"
        op.drop_index(index, table_name="creators")
        op.create_index(
            index,
            "creators",
            [name, "id"],
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
            postgresql_include=[column for column in include if column != name],
        )


def upgrade() -> None:
    # Plain columns: the planner's statistics are the table's, nothing to analyse. An index-only
    # scan skips the table for pages the visibility map marks all-visible (kept by autovacuum).
    _recreate(FILTERS)


def downgrade() -> None:
    _recreate([])
