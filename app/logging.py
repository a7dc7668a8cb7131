"""Structured logs: one JSON object per line, carrying the request id and the conversation id.

`log_config(settings)` is the dictConfig uvicorn applies in every worker; `RequestContext` is the
ASGI middleware that gives each HTTP request and websocket an id (from `X-Request-ID` or new),
echoes it in the response, logs one line per request and records its latency.
Message texts are never logged, so erasing a contact leaves nothing of theirs in the logs.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
conversation_id_var: ContextVar[str | None] = ContextVar("conversation_id", default=None)
access_log = logging.getLogger("parley.access")
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def bind_conversation(conversation_id: str | None) -> None:
    """Tag every later log line of this task (one socket) with the conversation id."""
    conversation_id_var.set(conversation_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("conversation_id", conversation_id_var)):
            value = var.get()
            if value:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{k}={v.get()}" for k, v in (("req", request_id_var), ("conv", conversation_id_var)) if v.get())
        line = super().format(record)
        return f"{line} [{ids}]" if ids else line


# Query parameters that carry a credential: conversation and bearer tokens, identity hashes.
_SECRET_PARAM = re.compile(r"(?i)([?&](?:token|access_token|user_hash|password|secret)=)[^&\s\"'#]+")


def redact(text: str) -> str:
    """`/ws/chat?token=abc&last_seq=3` -> `/ws/chat?token=[redacted]&last_seq=3`."""
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Takes tokens out of every line, whichever logger wrote it: uvicorn logs each websocket
    handshake with its full URL (`"WebSocket /ws/chat?token=..." [accepted]`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True  # the formatter reports the broken record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def log_config(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    formatter: dict[str, Any] = ({"()": "app.logging.JsonFormatter"} if fmt == "json" else
                                 {"()": "app.logging.TextFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    level = level.upper()
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"redact": {"()": "app.logging.RedactSecrets"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr",
                                 "filters": ["redact"]}},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # parley.access replaces it: same line, plus the request id and the latency
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestContext:
    """Request id, one access log line and the latency histogram for every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else secrets.token_hex(8)
        request_id_var.set(request_id)
        conversation_id_var.set(None)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            path = route if route != "unmatched" else scope["path"][:200]  # templates: no contact data in logs
            access_log.info("%s %s %s", scope["method"], path, status,
                            extra={"method": scope["method"], "path": path, "status": status,
                                   "duration_ms": round(elapsed * 1000, 2)})
            services = getattr(scope.get("app").state, "services", None) if scope.get("app") else None
            if services is not None:
                services.desk.metrics.http_seconds.labels(scope["method"], route, str(status)).observe(elapsed)
