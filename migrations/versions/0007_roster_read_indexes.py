"""roster read indexes: partial indexes for each sort (and the manager's own roster), trigram
indexes for the search on names and handles (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTIVE = sa.text("archived_at IS NULL")
SORTS = ("display_name", "country", "niche", "status", "created_at", "updated_at", "date_of_birth")
# (index, table, column): searched as lower(column) LIKE '%text%'.
TRIGRAMS = (
    ("ix_creators_display_name_trgm", "creators", "display_name"),
    ("ix_creators_legal_name_trgm", "creators", "legal_name"),
    ("ix_platform_accounts_handle_trgm", "platform_accounts", "handle"),
)


def upgrade() -> None:
    for name in SORTS:
        op.create_index(
            f"ix_creators_roster_{name}", "creators", [name, "id"], postgresql_where=ACTIVE, sqlite_where=ACTIVE
        )
    op.create_index(
        "ix_creators_roster_manager_id",
        "creators",
        ["manager_id", "display_name", "id"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for index, table, column in TRIGRAMS:
            op.execute(f"CREATE INDEX {index} ON {table} USING gin (lower({column}) gin_trgm_ops)")
    # SQLite has no trigram index: its search scans, which its embedded demo sizes allow.


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index, _table, _column in TRIGRAMS:
            op.execute(f"DROP INDEX {index}")
        # The pg_trgm extension stays: other objects of the database may use it.
    op.drop_index("ix_creators_roster_manager_id", table_name="creators")
    for name in SORTS:
        op.drop_index(f"ix_creators_roster_{name}", table_name="creators")
