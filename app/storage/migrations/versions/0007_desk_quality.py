"""desk quality: indexes for the unhappy-customers view and history filters, editors' decisions on suggested questions

Revision ID: 0007_desk_quality
Revises: 0006_mail_followup
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_desk_quality"
down_revision = "0006_mail_followup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_queued_at", "cases", ["queued_at"])
    op.create_index("ix_cases_resolved_at", "cases", ["resolved_at"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_table(
        "desk_suggestions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=128), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name="fk_desk_suggestions_decided_by_users",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_desk_suggestions"),
        sa.UniqueConstraint("article_id", "question_key", name="uq_desk_suggestions_article_question"),
    )


def downgrade() -> None:
    op.drop_table("desk_suggestions")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_index("ix_cases_resolved_at", table_name="cases")
    op.drop_index("ix_cases_queued_at", table_name="cases")
