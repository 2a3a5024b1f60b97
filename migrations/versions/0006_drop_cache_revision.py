"""drop the read-cache revision: its counter table, triggers and trigger function

The API reads the database directly (indexed queries, no per-process caches), so nothing needs
the counter any more, and writes no longer queue on its one row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As migration 0005 created them.
WATCHED = ("creators", "platform_accounts", "guideline_strikes", "users")
TOKEN_COLUMNS = ("revoked_at", "expires_at", "user_id")
BUMP = "UPDATE cache_revision SET revision = revision + 1 WHERE id = 1"


def _sqlite_triggers() -> list[tuple[str, str, str]]:
    """(trigger name, table, event) of 0005's SQLite triggers."""
    events = [(table, event) for table in WATCHED for event in ("INSERT", "UPDATE", "DELETE")]
    events += [("api_tokens", f"UPDATE OF {', '.join(TOKEN_COLUMNS)}"), ("api_tokens", "DELETE")]
    return [(f"{table}_{event.split()[0].lower()}_bump_cache_revision", table, event) for table, event in events]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_cache_revision ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_truncate_bump_cache_revision ON {table}")
        op.execute("DROP TRIGGER IF EXISTS api_tokens_bump_cache_revision ON api_tokens")
        op.execute("DROP FUNCTION IF EXISTS bump_cache_revision()")
    else:
        for name, _table, _event in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("cache_revision")


def downgrade() -> None:
    op.create_table(
        "cache_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_revision")),
    )
    start = (
        "(random() * 1e12)::bigint" if op.get_bind().dialect.name == "postgresql" else "abs(random() % 1000000000000)"
    )
    op.execute(f"INSERT INTO cache_revision (id, revision) VALUES (1, {start})")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION bump_cache_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                mark text := statement_timestamp()::text;
            BEGIN
                IF current_setting('agency.cache_revision_bumped', true) IS DISTINCT FROM mark THEN
                    PERFORM set_config('agency.cache_revision_bumped', mark, true);
                    {BUMP};
                END IF;
                RETURN NULL;
            END $$""")
        for table in WATCHED:
            op.execute(f"""
                CREATE CONSTRAINT TRIGGER {table}_bump_cache_revision
                AFTER INSERT OR UPDATE OR DELETE ON {table}
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_revision()""")
            op.execute(f"""
                CREATE TRIGGER {table}_truncate_bump_cache_revision AFTER TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_revision()""")
        op.execute(f"""
            CREATE CONSTRAINT TRIGGER api_tokens_bump_cache_revision
            AFTER UPDATE OF {", ".join(TOKEN_COLUMNS)} OR DELETE ON api_tokens
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_revision()""")
    else:
        for name, table, event in _sqlite_triggers():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")
