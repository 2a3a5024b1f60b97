"""chunked jobs: a job can be split into chunk jobs (parent_id) and wait for them (status waiting)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE = ("queued", "started", "finished", "failed")
AFTER = ("queued", "started", "waiting", "finished", "failed")


def _status(values):
    return sa.Enum(*values, name="job_status", native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("job_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_records_parent_id"), ["parent_id"], unique=False)
        batch_op.alter_column("status", existing_type=_status(BEFORE), type_=_status(AFTER), existing_nullable=False)


def downgrade() -> None:
    op.execute("UPDATE job_records SET status = 'failed' WHERE status = 'waiting'")
    with op.batch_alter_table("job_records", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=_status(AFTER), type_=_status(BEFORE), existing_nullable=False)
        batch_op.drop_index(batch_op.f("ix_job_records_parent_id"))
        batch_op.drop_column("parent_id")
