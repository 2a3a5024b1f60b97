"""programmes, rule versions, eligibility, activations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:46:52.123280
"""

from alembic import op
import sqlalchemy as sa
import agency.core.database


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "platform",
            sa.Enum(
                "tiktok",
                "youtube",
                "instagram",
                "twitch",
                "x",
                "blog",
                "podcast",
                "other",
                name="platform",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("activation_path", sa.String(length=300), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("code", name=op.f("uq_programs_code")),
    )
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("country_scope", sa.JSON(), nullable=True),
        sa.Column("source_note", sa.Text(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rule_versions_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_rule_versions_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_versions")),
        sa.UniqueConstraint("program_id", "version", name=op.f("uq_rule_versions_program_id_version")),
    )
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_versions_program_id"), ["program_id"], unique=False)

    op.create_table(
        "eligibility_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("changed_criteria", sa.JSON(), nullable=False),
        sa.Column(
            "recorded_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_eligibility_changes_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_eligibility_changes_program_id_programs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_version_id"],
            ["rule_versions.id"],
            name=op.f("fk_eligibility_changes_rule_version_id_rule_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_changes")),
    )
    with op.batch_alter_table("eligibility_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eligibility_changes_as_of"), ["as_of"], unique=False)
        batch_op.create_index("ix_eligibility_changes_creator_program", ["creator_id", "program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eligibility_changes_recorded_at"), ["recorded_at"], unique=False)

    op.create_table(
        "eligibility_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("near_threshold", sa.Boolean(), nullable=False),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "computed_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_eligibility_evaluations_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_eligibility_evaluations_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_version_id"],
            ["rule_versions.id"],
            name=op.f("fk_eligibility_evaluations_rule_version_id_rule_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_evaluations")),
        sa.UniqueConstraint("creator_id", "program_id", name=op.f("uq_eligibility_evaluations_creator_id_program_id")),
    )
    with op.batch_alter_table("eligibility_evaluations", schema=None) as batch_op:
        batch_op.create_index("ix_eligibility_evaluations_program_eligible", ["program_id", "eligible"], unique=False)

    op.create_table(
        "program_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_applied",
                "applied",
                "active",
                "rejected",
                name="activation_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("rejected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_program_activations_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_activations_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_activations")),
        sa.UniqueConstraint("creator_id", "program_id", name=op.f("uq_program_activations_creator_id_program_id")),
    )
    with op.batch_alter_table("program_activations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_activations_creator_id"), ["creator_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("program_activations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_activations_creator_id"))

    op.drop_table("program_activations")
    with op.batch_alter_table("eligibility_evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_eligibility_evaluations_program_eligible")

    op.drop_table("eligibility_evaluations")
    with op.batch_alter_table("eligibility_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_changes_recorded_at"))
        batch_op.drop_index("ix_eligibility_changes_creator_program")
        batch_op.drop_index(batch_op.f("ix_eligibility_changes_as_of"))

    op.drop_table("eligibility_changes")
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_versions_program_id"))

    op.drop_table("rule_versions")
    op.drop_table("programs")
