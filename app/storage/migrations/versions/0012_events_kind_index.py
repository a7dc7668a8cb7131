"""events: an index on (kind, id), so the newest votes are read without scanning every event

Revision ID: 0012_events_kind_index
Revises: 0011_teams
"""
from alembic import op

revision = "0012_events_kind_index"
down_revision = "0011_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_kind_id", "events", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_id", table_name="events")
