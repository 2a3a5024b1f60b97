"""email_outbox: the bodies of emails compressed with LZ4 on PostgreSQL servers built with it
(PostgreSQL 14 and later; Debian's and the official images are), rather than the default pglz. An
evaluation or a digest run writes megabytes of email bodies at once: the 1,353 immediate emails of
a run at 100,000 creators (20 MB of text) took 0.39 to 0.40 s to write with pglz and 0.19 s with
LZ4, for 6 MB stored instead of 5. Bodies already written keep their compression; SQLite stores
them as they are.

Revision ID: 0031_outbox_bodies_lz4
Revises: 0030_alerts_open_key_by_creator
Create Date: 2026-12-01 09:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0031_outbox_bodies_lz4"
down_revision = "0030_alerts_open_key_by_creator"
branch_labels = None
depends_on = None

BODIES = ("body_text", "body_html")


def _compress_with(method: str) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    supported = connection.scalar(
        sa.text("SELECT :method = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'").bindparams(
            method=method
        )
    )
    if method != "default" and not supported:
        return  # a server built without LZ4 keeps pglz
    columns = ", ".join(f"ALTER COLUMN {name} SET COMPRESSION {method}" for name in BODIES)
    op.execute(f"ALTER TABLE email_outbox {columns}")


def upgrade() -> None:
    _compress_with("lz4")


def downgrade() -> None:
    _compress_with("default")
