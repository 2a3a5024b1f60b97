"""brands, deals, deliverables, revenue, fx rates, diversification

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:06:02.475058
"""

from alembic import op
import sqlalchemy as sa
import agency.core.database


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "brands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("archived_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("name", name=op.f("uq_brands_name")),
    )
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("base", "quote", "day", name=op.f("uq_fx_rates_base_quote_day")),
    )
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "tiktok_marketplace",
                "direct",
                "agency_outreach",
                "inbound",
                name="deal_source",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("fee_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("fee_currency", sa.String(length=3), nullable=False),
        sa.Column("commission_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "lead",
                "negotiating",
                "contracted",
                "in_progress",
                "delivered",
                "invoiced",
                "paid",
                "cancelled",
                "lost",
                name="deal_stage",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("invoiced_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("archived_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_deals_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_deals_creator_id_creators"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_stage"), ["stage"], unique=False)

    op.create_table(
        "diversification_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("previous_total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("by_source", sa.JSON(), nullable=False),
        sa.Column("by_platform", sa.JSON(), nullable=False),
        sa.Column("top_source", sa.String(length=32), nullable=True),
        sa.Column("top_source_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("top_platform", sa.String(length=32), nullable=True),
        sa.Column("top_platform_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("tiktok_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("hhi", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("previous_hhi", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column(
            "risk_level",
            sa.Enum(
                "no_data",
                "low",
                "medium",
                "high",
                name="risk_level",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("unconverted_records", sa.Integer(), nullable=False),
        sa.Column(
            "computed_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_diversification_snapshots_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diversification_snapshots")),
        sa.UniqueConstraint("creator_id", "as_of", name=op.f("uq_diversification_snapshots_creator_id_as_of")),
    )
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diversification_snapshots_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_diversification_snapshots_risk_level"), ["risk_level"], unique=False)

    op.create_table(
        "deal_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_stage",
            sa.Enum(
                "lead",
                "negotiating",
                "contracted",
                "in_progress",
                "delivered",
                "invoiced",
                "paid",
                "cancelled",
                "lost",
                name="from_stage",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_stage",
            sa.Enum(
                "lead",
                "negotiating",
                "contracted",
                "in_progress",
                "delivered",
                "invoiced",
                "paid",
                "cancelled",
                "lost",
                name="to_stage",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column(
            "occurred_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_deal_transitions_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_transitions_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_transitions")),
    )
    with op.batch_alter_table("deal_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_transitions_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "video",
                "short",
                "live",
                "story",
                "post",
                "other",
                name="deliverable_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
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
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "submitted",
                "published",
                "cancelled",
                name="deliverable_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("published_url", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deliverables_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverables")),
    )
    with op.batch_alter_table("deliverables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliverables_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliverables_due_date"), ["due_date"], unique=False)

    op.create_table(
        "revenue_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("earned_on", sa.Date(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "creator_rewards",
                "creator_fund",
                "live_gifts",
                "video_gifts",
                "subscriptions",
                "brand_deal",
                "affiliate",
                "merch",
                "courses",
                "coaching",
                "platform_ads",
                "other",
                name="revenue_source",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
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
            nullable=True,
        ),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("is_refund", sa.Boolean(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("archived_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_revenue_records_creator_id_creators"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_revenue_records_deal_id_deals"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_records")),
        sa.UniqueConstraint("source", "external_ref", name=op.f("uq_revenue_records_source_external_ref")),
    )
    with op.batch_alter_table("revenue_records", schema=None) as batch_op:
        batch_op.create_index("ix_revenue_records_creator_earned", ["creator_id", "earned_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_revenue_records_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("revenue_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revenue_records_deal_id"))
        batch_op.drop_index("ix_revenue_records_creator_earned")

    op.drop_table("revenue_records")
    with op.batch_alter_table("deliverables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliverables_due_date"))
        batch_op.drop_index(batch_op.f("ix_deliverables_deal_id"))

    op.drop_table("deliverables")
    with op.batch_alter_table("deal_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_transitions_deal_id"))

    op.drop_table("deal_transitions")
    with op.batch_alter_table("diversification_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diversification_snapshots_risk_level"))
        batch_op.drop_index(batch_op.f("ix_diversification_snapshots_creator_id"))

    op.drop_table("diversification_snapshots")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deals_stage"))
        batch_op.drop_index(batch_op.f("ix_deals_creator_id"))
        batch_op.drop_index(batch_op.f("ix_deals_brand_id"))

    op.drop_table("deals")
    op.drop_table("fx_rates")
    op.drop_table("brands")
