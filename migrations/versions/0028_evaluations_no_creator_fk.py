"""eligibility evaluations: no foreign key to the creator. It was a trigger probing `creators` for
each of the 10 rows a creator gets per recompute, about a quarter of the statement writing a
chunk's evaluations; the engine writes them only for the creators it read in the same transaction,
and the product archives creators instead of deleting them

Revision ID: 0028_evaluations_no_creator_fk
Revises: 0027_deliverables_version
Create Date: 2026-11-30 19:00:00
"""

from alembic import op


revision = "0028_evaluations_no_creator_fk"
down_revision = "0027_deliverables_version"
branch_labels = None
depends_on = None

TABLE = "eligibility_evaluations"
CONSTRAINT = "fk_eligibility_evaluations_creator_id_creators"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="foreignkey")


def downgrade() -> None:
    # Rows of creators deleted since (none, unless deleted by hand) cannot take the key back.
    op.execute(f"DELETE FROM {TABLE} WHERE creator_id NOT IN (SELECT id FROM creators)")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_foreign_key(CONSTRAINT, "creators", ["creator_id"], ["id"], ondelete="CASCADE")
