"""site_hours: a site's business hours (weekly ranges in its time zone, holidays) as JSON; NULL = always open

Revision ID: 0009_site_hours
Revises: 0008_desk_settings
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_site_hours"
down_revision = "0008_desk_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("business_hours", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("business_hours")
