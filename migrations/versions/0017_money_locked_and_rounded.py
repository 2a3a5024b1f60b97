"""money locked once invoiced and rounded by the book: amounts hold three decimals (BHD, KWD), a
revenue record keeps its deal's commission and says whether it adjusts an invoiced deal

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

WIDENED = [
    ("deals", "fee_amount", sa.Numeric(14, 2), sa.Numeric(15, 3)),
    ("revenue_records", "amount", sa.Numeric(14, 2), sa.Numeric(15, 3)),
    ("diversification_snapshots", "total", sa.Numeric(20, 2), sa.Numeric(21, 3)),
    ("diversification_snapshots", "previous_total", sa.Numeric(20, 2), sa.Numeric(21, 3)),
    ("diversification_snapshots", "platform_total", sa.Numeric(20, 2), sa.Numeric(21, 3)),
]


def upgrade() -> None:
    for table, column, old, new in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)
    with op.batch_alter_table("revenue_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commission_percent", sa.Numeric(5, 2), nullable=True))
        batch_op.add_column(
            sa.Column(
                "adjustment",
                sa.Enum("credit", "refund", name="adjustment", native_enum=False, create_constraint=True, length=24),
                nullable=True,
            )
        )
    # The records of deals keep the commission their deal carries today.
    op.execute(
        "UPDATE revenue_records SET commission_percent = "
        "(SELECT deals.commission_percent FROM deals WHERE deals.id = revenue_records.deal_id) "
        "WHERE deal_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("revenue_records", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_revenue_records_adjustment"), type_="check")
        batch_op.drop_column("adjustment")
        batch_op.drop_column("commission_percent")
    for table, column, old, new in reversed(WIDENED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=new, type_=old, existing_nullable=False)
