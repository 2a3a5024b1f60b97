"""metric snapshots partitioned by month on PostgreSQL (declarative partitioning, a default
partition for days no monthly partition holds yet); ids become 64-bit

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    "id, account_id, day, followers, views, likes, comments, shares, videos, qualified_videos, live_hours, "
    "watch_hours, shorts_views, updated_at"
)
DEFINITION = """
    id bigint NOT NULL DEFAULT nextval('metric_snapshots_id_seq'),
    account_id integer NOT NULL,
    day date NOT NULL,
    followers bigint NOT NULL,
    views bigint NOT NULL,
    likes bigint NOT NULL,
    comments bigint NOT NULL,
    shares bigint NOT NULL,
    videos integer NOT NULL,
    qualified_videos integer NOT NULL,
    live_hours numeric(10, 2) NOT NULL,
    watch_hours numeric(12, 2) NOT NULL,
    shorts_views bigint NOT NULL,
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    CONSTRAINT fk_metric_snapshots_account_id_platform_accounts FOREIGN KEY (account_id)
        REFERENCES platform_accounts (id) ON DELETE CASCADE
"""


def _set_aside() -> None:
    op.execute("ALTER TABLE metric_snapshots RENAME TO metric_snapshots_previous")
    for old, new in (
        ("uq_metric_snapshots_account_id_day", "uq_metric_snapshots_previous_account_id_day"),
        ("fk_metric_snapshots_account_id_platform_accounts", "fk_metric_snapshots_previous_account_id"),
    ):
        op.execute(f"ALTER TABLE metric_snapshots_previous RENAME CONSTRAINT {old} TO {new}")
    has_primary_key = (
        op.get_bind().execute(sa.text("SELECT 1 FROM pg_constraint WHERE conname = 'pk_metric_snapshots'")).first()
    )
    if has_primary_key:
        op.execute(
            "ALTER TABLE metric_snapshots_previous RENAME CONSTRAINT pk_metric_snapshots TO pk_metric_snapshots_previous"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps one plain table
    _set_aside()
    op.execute(
        f"CREATE TABLE metric_snapshots ({DEFINITION},"
        " CONSTRAINT uq_metric_snapshots_account_id_day UNIQUE (account_id, day)) PARTITION BY RANGE (day)"
    )
    op.execute("CREATE TABLE metric_snapshots_default PARTITION OF metric_snapshots DEFAULT")
    # A partition per month of the data, and the next three (the scheduler keeps creating them).
    op.execute("""
        DO $$
        DECLARE
            month date;
            last date;
        BEGIN
            SELECT date_trunc('month', coalesce(min(day), current_date))::date,
                   (date_trunc('month', greatest(coalesce(max(day), current_date), current_date))
                    + interval '3 months')::date
              INTO month, last FROM metric_snapshots_previous;
            WHILE month <= last LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF metric_snapshots FOR VALUES FROM (%L) TO (%L)',
                               'metric_snapshots_' || to_char(month, 'YYYY_MM'), month,
                               (month + interval '1 month')::date);
                month := (month + interval '1 month')::date;
            END LOOP;
        END $$""")
    op.execute(f"INSERT INTO metric_snapshots ({COLUMNS}) SELECT {COLUMNS} FROM metric_snapshots_previous")
    op.execute("ALTER SEQUENCE metric_snapshots_id_seq AS bigint OWNED BY metric_snapshots.id")
    op.execute("DROP TABLE metric_snapshots_previous")
    op.execute("ANALYZE metric_snapshots")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside()
    op.execute(
        f"CREATE TABLE metric_snapshots ({DEFINITION}, CONSTRAINT pk_metric_snapshots PRIMARY KEY (id),"
        " CONSTRAINT uq_metric_snapshots_account_id_day UNIQUE (account_id, day))"
    )
    op.execute(f"INSERT INTO metric_snapshots ({COLUMNS}) SELECT {COLUMNS} FROM metric_snapshots_previous")
    op.execute("ALTER SEQUENCE metric_snapshots_id_seq OWNED BY metric_snapshots.id")
    op.execute("DROP TABLE metric_snapshots_previous CASCADE")
