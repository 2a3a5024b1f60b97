"""metric snapshots: a metric not reported for a day is NULL (unknown) instead of 0; followers
stay required

Revision ID: 0026_metrics_unknown_values
Revises: 0025_evaluations_natural_key
Create Date: 2026-11-30 13:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0026_metrics_unknown_values"
down_revision = "0025_evaluations_natural_key"
branch_labels = None
depends_on = None

TABLE = "metric_snapshots"
COLUMNS = {
    "views": sa.BigInteger(),
    "likes": sa.BigInteger(),
    "comments": sa.BigInteger(),
    "shares": sa.BigInteger(),
    "videos": sa.Integer(),
    "qualified_videos": sa.Integer(),
    "live_hours": sa.Numeric(precision=10, scale=2),
    "watch_hours": sa.Numeric(precision=12, scale=2),
    "shorts_views": sa.BigInteger(),
}


def _set_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # One statement on the partitioned parent reaches every partition.
        action = "DROP NOT NULL" if nullable else "SET NOT NULL"
        op.execute(f"ALTER TABLE {TABLE} " + ", ".join(f"ALTER COLUMN {name} {action}" for name in COLUMNS))
        return
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, type_ in COLUMNS.items():
            batch_op.alter_column(name, existing_type=type_, nullable=nullable)


def upgrade() -> None:
    _set_nullable(True)


def downgrade() -> None:
    # The older schema has no "unknown": it stored 0.
    op.execute(
        f"UPDATE {TABLE} SET "
        + ", ".join(f"{name} = COALESCE({name}, 0)" for name in COLUMNS)
        + " WHERE "
        + " OR ".join(f"{name} IS NULL" for name in COLUMNS)
    )
    _set_nullable(False)
