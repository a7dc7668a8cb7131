"""email channel and follow-ups: mail threads, the outbox, scheduled follow-ups, shared mail state

Revision ID: 0006_mail_followup
Revises: 0005_integrations
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_mail_followup"
down_revision = "0005_integrations"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_threads",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("last_message_id", sa.String(length=300), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("confirm_sent_to", sa.String(length=254), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_mail_threads_conversation_id_conversations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_mail_threads")),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("seqs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_mail_outbox_conversation_id_conversations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(op.f("ix_mail_outbox_conversation_id"), "mail_outbox", ["conversation_id"])
    op.create_index(op.f("ix_mail_outbox_status"), "mail_outbox", ["status"])
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_followups_conversation_id_conversations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_followups_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        sa.UniqueConstraint("case_id", "reason", name="uq_followups_case_reason"),
    )
    op.create_index(op.f("ix_followups_conversation_id"), "followups", ["conversation_id"])
    op.create_index(op.f("ix_followups_status"), "followups", ["status"])
    op.create_table(
        "mail_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_mail_state")),
    )


def downgrade() -> None:
    op.drop_table("mail_state")
    op.drop_index(op.f("ix_followups_status"), table_name="followups")
    op.drop_index(op.f("ix_followups_conversation_id"), table_name="followups")
    op.drop_table("followups")
    op.drop_index(op.f("ix_mail_outbox_status"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_conversation_id"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("mail_threads")
