"""eligibility evaluations: keyed by (creator, programme), their natural key, instead of a
surrogate id from a sequence that nothing reads (one index and one sequence call less per row
written); the results document is stored as the JSON the engine builds (PostgreSQL `json`, no
binary JSONB to build: nothing queries inside it, and changes are found by the digest)

Revision ID: 0025_evaluations_natural_key
Revises: 0024_alerts_creator_opened_index
Create Date: 2026-11-30 10:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0025_evaluations_natural_key"
down_revision = "0024_alerts_creator_opened_index"
branch_labels = None
depends_on = None

TABLE = "eligibility_evaluations"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint("uq_eligibility_evaluations_creator_id_program_id", type_="unique")
        if postgres:
            batch_op.drop_constraint("pk_eligibility_evaluations", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_eligibility_evaluations", ["creator_id", "program_id"])
    if postgres:
        op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN details TYPE json USING details::json")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN details TYPE jsonb USING details::jsonb")
        op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT pk_eligibility_evaluations")
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN id SERIAL")
        op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_eligibility_evaluations PRIMARY KEY (id)")
    else:
        with op.batch_alter_table(TABLE, schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint("pk_eligibility_evaluations", type_="primary")
            batch_op.add_column(sa.Column("id", sa.Integer(), nullable=False, primary_key=True))
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_eligibility_evaluations_creator_id_program_id", ["creator_id", "program_id"]
        )
