"""The database schema (SQLAlchemy Core). Alembic migrations in app/storage/migrations follow it.

Longer than 300 lines on purpose: the whole schema in one file, the one the migrations are written
from; the email channel's tables live beside its store (mail*.py, followups.py)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
TS = sa.DateTime(timezone=True)
INT_MAX = 2_147_483_647  # the largest id or seq an Integer column holds (PostgreSQL `integer`)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("capacity", sa.Integer, nullable=False, default=3),
    sa.Column("created_at", TS, nullable=False),
)

auth_sessions = sa.Table(
    "auth_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

login_attempts = sa.Table(
    "login_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("category", sa.String(120)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("questions", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
)

article_versions = sa.Table(
    "article_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.String(128), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("category", sa.String(120)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("questions", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("article_id", "version", name="uq_article_versions_article_version"),
)

kb_entries = sa.Table(
    "kb_entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.String(128), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("model", sa.String(300), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)

kb_changes = sa.Table(
    "kb_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.String(128), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("site_key", sa.String(64)),
    sa.Column("contact", sa.JSON, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("bot_state", sa.JSON, nullable=False),
    sa.Column("current_case_id", sa.Integer),
    sa.Column("created_at", TS, nullable=False, index=True),
    sa.Column("updated_at", TS, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sender", sa.String(16), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("client_msg_id", sa.String(64)),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("conversation_id", "seq", name="uq_events_conversation_seq"),
    # retries are idempotent per sender: a customer's id never swallows an agent's message
    sa.UniqueConstraint("conversation_id", "sender", "client_msg_id", name="uq_events_conversation_sender_client_msg"),
    sa.Index("ix_events_kind_id", "kind", "id"),  # the newest events of one kind (the votes calibration reads)
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("packet", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("queued_at", TS, nullable=False, index=True),
    sa.Column("assigned_at", TS),
    sa.Column("first_reply_at", TS),
    sa.Column("resolved_at", TS, index=True),
    sa.Column("rating", sa.Integer),
    sa.Column("rating_comment", sa.Text),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True),
    sa.Column("priority", sa.String(8), nullable=False, default="normal", server_default="normal"),
    sa.Column("tags", sa.JSON, nullable=False, default=list, server_default="[]"),
)

teams = sa.Table(  # a group of agents; routing rules choose a case's team (app/storage/teams.py)
    "teams", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("created_at", TS, nullable=False),
)

team_members = sa.Table(
    "team_members", metadata,
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

routing_rules = sa.Table(  # the first rule by position whose set fields all match a new case picks its team
    "routing_rules", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    sa.Column("site_key", sa.String(64)),  # NULL: any
    sa.Column("language", sa.String(35)),
    sa.Column("reason", sa.String(32)),
    sa.Column("created_at", TS, nullable=False),
)

desk_suggestions = sa.Table(  # an editor's decision on a question the desk suggested as an article's example
    "desk_suggestions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.String(128), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("question_key", sa.String(500), nullable=False),  # lower-cased, spaces collapsed
    sa.Column("status", sa.String(16), nullable=False),  # accepted | dismissed
    sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("decided_at", TS, nullable=False),
    sa.UniqueConstraint("article_id", "question_key", name="uq_desk_suggestions_article_question"),
)

presence = sa.Table(
    "presence", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("last_seen", TS, nullable=False),
)

sites = sa.Table(
    "sites", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("allowed_origins", sa.JSON, nullable=False),
    sa.Column("identity_secret", sa.String(128)),
    sa.Column("enforce_identity", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True, server_default=sa.true()),
    sa.Column("language", sa.String(8), nullable=False, default="en", server_default="en"),
    # after a rotation the old secret still verifies until previous_secret_expires_at
    sa.Column("previous_identity_secret", sa.String(128)),
    sa.Column("previous_secret_expires_at", TS),
    sa.Column("updated_at", TS),
    sa.Column("business_hours", sa.JSON),  # app/hours.py's JSON form; NULL: always open
)

audit_log = sa.Table(  # admin actions: who did what, when (sites today)
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", TS, nullable=False, index=True),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("actor", sa.String(254), nullable=False),  # the admin's email, or "cli" for the parley command
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(120), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

canned_replies = sa.Table(
    "canned_replies", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shortcut", sa.String(40), nullable=False, unique=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("created_at", TS, nullable=False),
)

# ----------------------------------------------------------------------------- integrations (issue 14)
api_tokens = sa.Table(  # integrations' bearer tokens: only a hash is kept; `prefix` names the token in lists
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS),
    sa.Column("last_used_at", TS),
    sa.Column("revoked_at", TS),
)

webhook_endpoints = sa.Table(
    "webhook_endpoints", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("description", sa.String(200), nullable=False, default=""),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("secret", sa.String(80), nullable=False),
    # after a rotation deliveries are signed with both secrets until previous_secret_expires_at
    sa.Column("previous_secret", sa.String(80)),
    sa.Column("previous_secret_expires_at", TS),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("disabled_reason", sa.String(200)),
    sa.Column("failing_since", TS),  # the first failed attempt since the last success
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

webhook_deliveries = sa.Table(  # the durable outbox: one row per (endpoint, event), retried until delivered
    "webhook_deliveries", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # the delivery id the receiver sees, the same on every retry
    sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source", sa.String(60), nullable=False),  # what it came from (ev:<events.id>, art:<version id>)
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE")),
    sa.Column("seq", sa.Integer),
    sa.Column("payload", sa.Text, nullable=False),  # the exact body sent (and signed)
    sa.Column("status", sa.String(16), nullable=False),  # pending, delivered, failed (gave up)
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("claimed_until", TS),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
    sa.Column("last_error", sa.String(300)),
    sa.UniqueConstraint("endpoint_id", "source", name="uq_webhook_deliveries_endpoint_source"),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_conversation", "endpoint_id", "conversation_id", "status"),
)

webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.String(300)),
)

integration_cursors = sa.Table(  # how far the webhook feeder has read each durable log (events, article versions)
    "integration_cursors", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

desk_settings = sa.Table(  # desk-wide settings changed at run time (the bot's threshold override), read by every process
    "desk_settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
)

attachments = sa.Table(  # files sent in a conversation: metadata and bytes, deleted with the conversation
    "attachments", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # att_ + 32 hex: unguessable, but every download is authorised too
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("seq", sa.Integer, nullable=False),  # the message event that carries it
    sa.Column("sender", sa.String(16), nullable=False),  # customer | agent
    sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),  # the agent, for agents
    sa.Column("name", sa.String(255), nullable=False),  # sanitised (app/attachments.py)
    sa.Column("content_type", sa.String(64), nullable=False),  # decided by the bytes, never by the client
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),  # BLOB on SQLite, bytea on PostgreSQL
    sa.Column("created_at", TS, nullable=False),
)
