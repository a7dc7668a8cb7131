"""console: canned replies, with a few to start from

Revision ID: 0002_console
Revises: 0001
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002_console"
down_revision = "0001"
branch_labels = None
depends_on = None

STARTERS = [
    ("hello", "Greeting", "Hi, thanks for waiting! I'm looking at your question now."),
    ("moment", "One moment", "Let me check that for you, it will take a minute or two."),
    ("order", "Ask for the order number", "Could you give me your order number? It starts with LL- and is in your confirmation email."),
    ("else", "Anything else?", "Is there anything else I can help you with today?"),
    ("bye", "Closing", "Glad I could help. Have a lovely day!"),
]


def upgrade() -> None:
    table = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_canned_replies_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_canned_replies_shortcut")),
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(table, [dict(shortcut=s, title=t, body=b, created_at=now) for s, t, b in STARTERS])


def downgrade() -> None:
    op.drop_table("canned_replies")
