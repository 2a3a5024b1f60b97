"""deliverables carry a version, like deals and the other records edited in forms: an edit made on
a stale read is refused (409) instead of overwriting a change made in the meantime

Revision ID: 0027_deliverables_version
Revises: 0026_metrics_unknown_values
Create Date: 2026-11-30 13:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0027_deliverables_version"
down_revision = "0026_metrics_unknown_values"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliverables") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("deliverables") as batch_op:
        batch_op.drop_column("version")
