"""eligibility engine in SQL: the qualifying account, per-criterion results with a digest, the day
a change took effect; derived rows keep only their creator as a foreign key; indexes the engine's
reads fit ((creator, platform) for accounts; snapshots by their (account, day) key only)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("eligibility_evaluations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_eligibility_evaluations_program_id_programs", type_="foreignkey")
        batch_op.drop_constraint("fk_eligibility_evaluations_rule_version_id_rule_versions", type_="foreignkey")
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.Text(), nullable=True))
    if postgres:
        # JSONB has equality; the stored results are compared and rewritten in SQL.
        op.execute("ALTER TABLE eligibility_evaluations ALTER COLUMN details TYPE jsonb USING details::jsonb")
    # Results of the previous engine are not comparable: the next recompute rewrites them.
    op.execute("DELETE FROM eligibility_evaluations")
    with op.batch_alter_table("eligibility_changes", schema=None) as batch_op:
        batch_op.drop_constraint("fk_eligibility_changes_program_id_programs", type_="foreignkey")
        batch_op.drop_constraint("fk_eligibility_changes_rule_version_id_rule_versions", type_="foreignkey")
        batch_op.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
    op.execute("UPDATE eligibility_changes SET effective_on = as_of")
    with op.batch_alter_table("eligibility_changes", schema=None) as batch_op:
        batch_op.alter_column("effective_on", existing_type=sa.Date(), nullable=False)
        batch_op.create_index(batch_op.f("ix_eligibility_changes_effective_on"), ["effective_on"], unique=False)
    with op.batch_alter_table("platform_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_accounts_creator_id")
        batch_op.create_index("ix_platform_accounts_creator_platform", ["creator_id", "platform"], unique=False)
    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_snapshots_day")


def downgrade() -> None:
    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_metric_snapshots_day", ["day"], unique=False)
    with op.batch_alter_table("platform_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_accounts_creator_platform")
        batch_op.create_index("ix_platform_accounts_creator_id", ["creator_id"], unique=False)
    with op.batch_alter_table("eligibility_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_changes_effective_on"))
        batch_op.drop_column("effective_on")
        batch_op.create_foreign_key(
            "fk_eligibility_changes_program_id_programs", "programs", ["program_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            "fk_eligibility_changes_rule_version_id_rule_versions",
            "rule_versions",
            ["rule_version_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.execute("DELETE FROM eligibility_evaluations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE eligibility_evaluations ALTER COLUMN details TYPE json USING details::json")
    with op.batch_alter_table("eligibility_evaluations", schema=None) as batch_op:
        batch_op.drop_column("digest")
        batch_op.drop_column("account_id")
        batch_op.create_foreign_key(
            "fk_eligibility_evaluations_program_id_programs", "programs", ["program_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            "fk_eligibility_evaluations_rule_version_id_rule_versions",
            "rule_versions",
            ["rule_version_id"],
            ["id"],
            ondelete="CASCADE",
        )
