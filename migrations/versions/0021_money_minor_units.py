"""money chain amounts in each currency's own minor unit: invoices, invoice lines, payments,
allocations, payout batches and items, and journal lines hold three decimals (BHD, KWD and TND
have three, JPY and KRW none), keeping the same fourteen integer digits; a deal says whether its
commission is its own (an override) or its agreement's; an outbox email can attach documents

Revision ID: 0021_money_minor_units
Revises: 0019
Create Date: 2026-11-30 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_money_minor_units"
down_revision = "0020_user_sessions"
branch_labels = None
depends_on = None

OLD = sa.Numeric(16, 2)
NEW = sa.Numeric(17, 3)
COLUMNS = {
    "invoices": ("subtotal", "vat_amount", "total", "amount_paid", "amount_credited"),
    "invoice_lines": ("amount",),
    "payments": ("amount", "amount_base", "amount_allocated"),
    "payment_allocations": ("amount", "payment_amount"),
    "payout_batches": ("total",),
    "payout_items": ("amount",),
    "journal_lines": ("debit", "credit", "amount_currency"),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=OLD, type_=NEW, existing_nullable=False)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commission_override", sa.Boolean(), server_default=sa.false(), nullable=False))
    # A commission set on a deal's money terms was its override (invoices used it over the
    # agreement's): it moves to the deal, marked as such. Every other deal follows its agreement,
    # as its invoice already did.
    op.execute(
        "UPDATE deals SET commission_override = true, commission_percent = ("
        "SELECT t.commission_percent FROM deal_money_terms t WHERE t.deal_id = deals.id) "
        "WHERE EXISTS (SELECT 1 FROM deal_money_terms t WHERE t.deal_id = deals.id "
        "AND t.commission_percent IS NOT NULL)"
    )
    op.execute("UPDATE deal_money_terms SET commission_percent = NULL")
    # An email can carry documents (an unpaid invoice's PDF with its reminder).
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_column("attachments")
    op.execute(
        "UPDATE deal_money_terms SET commission_percent = ("
        "SELECT deals.commission_percent FROM deals WHERE deals.id = deal_money_terms.deal_id "
        "AND deals.commission_override = true)"
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("commission_override")
    # Amounts in a three-decimal currency are rounded to two places by the narrower column.
    for table, columns in reversed(COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=NEW, type_=OLD, existing_nullable=False)
