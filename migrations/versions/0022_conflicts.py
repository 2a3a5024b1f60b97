"""platform accounts carry a version, like the other records edited in forms: an edit made on a
stale read is refused (409) instead of overwriting a change made in the meantime

Revision ID: 0022_conflicts
Revises: 0019
Create Date: 2026-11-30 01:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0022_conflicts"
down_revision = "0021_money_minor_units"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_accounts") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("platform_accounts") as batch_op:
        batch_op.drop_column("version")
