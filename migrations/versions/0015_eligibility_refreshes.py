"""eligibility refreshes: creators whose evaluations a write made out of date

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import agency.core.database

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eligibility_refreshes",
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "requested_at",
            agency.core.database.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_eligibility_refreshes_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_eligibility_refreshes")),
    )


def downgrade() -> None:
    op.drop_table("eligibility_refreshes")
