"""read-cache revision: a counter raised by triggers on what the API's read caches hold

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 07:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Tables whose every change makes cached roster pages and cached token checks stale.
WATCHED = ("creators", "platform_accounts", "guideline_strikes", "users")
# On api_tokens only what can end a token's validity counts; last_used_at moves every minute.
TOKEN_COLUMNS = ("revoked_at", "expires_at", "user_id")
BUMP = "UPDATE cache_revision SET revision = revision + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "cache_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_revision")),
    )
    # A random start: processes still holding entries from another database (a restore, a
    # recreated schema) cannot mistake its revision for the one they cached at.
    start = (
        "(random() * 1e12)::bigint" if op.get_bind().dialect.name == "postgresql" else "abs(random() % 1000000000000)"
    )
    op.execute(f"INSERT INTO cache_revision (id, revision) VALUES (1, {start})")
    if op.get_bind().dialect.name == "postgresql":
        # Deferred to commit: the counter's row lock is taken last and held only while committing,
        # so writers never wait on it while holding other row locks (no deadlocks), and readers
        # see the new value exactly when they can see the change.
        # A bulk write fires the trigger once per row, all within the one COMMIT statement: bump
        # once per statement (a transaction-local mark), not once per row.
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
        # SQLite has one writer at a time: plain row triggers are enough.
        events = [(table, event) for table in WATCHED for event in ("INSERT", "UPDATE", "DELETE")]
        events += [("api_tokens", f"UPDATE OF {', '.join(TOKEN_COLUMNS)}"), ("api_tokens", "DELETE")]
        for table, event in events:
            name = f"{table}_{event.split()[0].lower()}_bump_cache_revision"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_bump_cache_revision ON {table}")
            op.execute(f"DROP TRIGGER {table}_truncate_bump_cache_revision ON {table}")
        op.execute("DROP TRIGGER api_tokens_bump_cache_revision ON api_tokens")
        op.execute("DROP FUNCTION bump_cache_revision()")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{event}_bump_cache_revision")
        op.execute("DROP TRIGGER api_tokens_update_bump_cache_revision")
        op.execute("DROP TRIGGER api_tokens_delete_bump_cache_revision")
    op.drop_table("cache_revision")
