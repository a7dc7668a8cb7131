"""desk_settings: desk-wide settings changed at run time (an editor's override of the calibrated thresholds)

Revision ID: 0008_desk_settings
Revises: 0007_desk_quality
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_desk_settings"
down_revision = "0007_desk_quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    op.drop_table("desk_settings")
