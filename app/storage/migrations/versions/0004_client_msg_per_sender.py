"""client_msg_id is unique per conversation and sender: a customer's id no longer swallows an agent's message

Revision ID: 0004_client_msg_per_sender
Revises: 0003_sites
"""
from alembic import op

revision = "0004_client_msg_per_sender"
down_revision = "0003_sites"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_conversation_client_msg", type_="unique")
        batch.create_unique_constraint("uq_events_conversation_sender_client_msg",
                                       ["conversation_id", "sender", "client_msg_id"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_conversation_sender_client_msg", type_="unique")
        batch.create_unique_constraint("uq_events_conversation_client_msg", ["conversation_id", "client_msg_id"])
