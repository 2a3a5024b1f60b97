"""users, tokens, creators, accounts, metrics, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-25 04:14:32.995513
"""

from alembic import op
import sqlalchemy as sa
import agency.core.database


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin", "manager", "analyst", name="user_role", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_login_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", agency.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", agency.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "occurred_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "creators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column(
            "niche",
            sa.Enum(
                "fashion",
                "beauty",
                "cooking",
                "gaming",
                "fitness",
                "education",
                "music",
                "comedy",
                "tech",
                "travel",
                "other",
                name="niche",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "prospect",
                "active",
                "paused",
                "offboarded",
                name="creator_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "guideline_standing",
            sa.Enum(
                "good", "warning", "restricted", name="standing", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("parental_agreement_on_file", sa.Boolean(), nullable=False),
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
            ["manager_id"], ["users.id"], name=op.f("fk_creators_manager_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creators")),
    )
    with op.batch_alter_table("creators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_creators_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_creators_display_name"), ["display_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_creators_manager_id"), ["manager_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_creators_niche"), ["niche"], unique=False)
        batch_op.create_index(batch_op.f("ix_creators_status"), ["status"], unique=False)

    op.create_table(
        "guideline_strikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
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
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_guideline_strikes_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_strikes")),
    )
    with op.batch_alter_table("guideline_strikes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guideline_strikes_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "platform_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
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
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column(
            "account_type",
            sa.Enum("personal", "business", name="account_type", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column(
            "created_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_platform_accounts_creator_id_creators"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_accounts")),
        sa.UniqueConstraint("platform", "handle", name=op.f("uq_platform_accounts_platform_handle")),
    )
    with op.batch_alter_table("platform_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_accounts_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("videos", sa.Integer(), nullable=False),
        sa.Column("qualified_videos", sa.Integer(), nullable=False),
        sa.Column("live_hours", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("watch_hours", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("shorts_views", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", agency.core.database.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["platform_accounts.id"],
            name=op.f("fk_metric_snapshots_account_id_platform_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshots")),
        sa.UniqueConstraint("account_id", "day", name=op.f("uq_metric_snapshots_account_id_day")),
    )
    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_snapshots_day"), ["day"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_snapshots_day"))

    op.drop_table("metric_snapshots")
    with op.batch_alter_table("platform_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_accounts_creator_id"))

    op.drop_table("platform_accounts")
    with op.batch_alter_table("guideline_strikes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guideline_strikes_creator_id"))

    op.drop_table("guideline_strikes")
    with op.batch_alter_table("creators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creators_status"))
        batch_op.drop_index(batch_op.f("ix_creators_niche"))
        batch_op.drop_index(batch_op.f("ix_creators_manager_id"))
        batch_op.drop_index(batch_op.f("ix_creators_display_name"))
        batch_op.drop_index(batch_op.f("ix_creators_country"))

    op.drop_table("creators")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))

    op.drop_table("audit_log")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
