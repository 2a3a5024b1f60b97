"""creator portal: the creator role, portal logins linked to one creator, invitations

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-29 20:00:00
"""

from alembic import op
import sqlalchemy as sa
import agency.core.database


revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

STAFF = ("admin", "manager", "analyst")


def _role_check(roles) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    # The role is a string with a CHECK constraint (str_enum): the constraint gains "creator".
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_user_role"), type_="check")
        batch_op.create_check_constraint("user_role", _role_check(STAFF + ("creator",)))

    op.create_table(
        "creator_logins",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_creator_logins_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_creator_logins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_creator_logins")),
    )
    with op.batch_alter_table("creator_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_creator_logins_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "creator_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", agency.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_creator_invitations_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_creator_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_creator_invitations_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_creator_invitations_token_hash")),
    )
    with op.batch_alter_table("creator_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_creator_invitations_creator_id"), ["creator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("creator_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creator_invitations_creator_id"))
    op.drop_table("creator_invitations")
    with op.batch_alter_table("creator_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creator_logins_creator_id"))
    op.drop_table("creator_logins")
    # Portal accounts cannot outlive their role: remove them before narrowing the constraint.
    op.execute("DELETE FROM users WHERE role = 'creator'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_user_role"), type_="check")
        batch_op.create_check_constraint("user_role", _role_check(STAFF))
