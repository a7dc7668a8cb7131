"""Request body limits: a body over its route's limit is refused with 413 before it is read.

An ASGI middleware, so it runs before FastAPI reads (and buffers) anything: a declared
Content-Length over the limit is answered at once, and a chunked body is counted as it streams
and cut off at the limit. Limits (app.config): PARLEY_MAX_BODY_BYTES for the API,
PARLEY_MAX_ARTICLE_BODY_BYTES for the article and content-gap routes, PARLEY_MAX_UPLOAD_BYTES for
the article import, PARLEY_MAIL_MAX_BYTES for the inbound email webhook, PARLEY_MAX_ATTACHMENT_BYTES
for attachment uploads.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

IMPORT_PATH = "/api/articles/import"
ARTICLE_PREFIXES = ("/api/articles", "/api/gaps")
MAIL_INBOUND_PATH = "/api/mail/inbound"  # a raw email: PARLEY_MAIL_MAX_BYTES
CUSTOMER_ATTACHMENTS_PATH = "/api/chat/attachments"  # a file: PARLEY_MAX_ATTACHMENT_BYTES
STAFF_ATTACHMENTS = ("/api/console/conversations/", "/attachments")  # …/{conversation id}/attachments


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes its limit: an HTTPException, so FastAPI
    passes it on (it turns other errors while reading a body into a 400) and answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


def limit_for(settings: Settings, path: str) -> int:
    if path == IMPORT_PATH:
        return settings.max_upload_bytes
    if path == MAIL_INBOUND_PATH:
        return settings.mail_max_bytes
    if path == CUSTOMER_ATTACHMENTS_PATH or (path.startswith(STAFF_ATTACHMENTS[0]) and path.endswith(STAFF_ATTACHMENTS[1])):
        return settings.max_attachment_bytes
    if path.startswith(ARTICLE_PREFIXES):
        return settings.max_article_body_bytes
    return settings.max_body_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(self.settings, scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server itself refuses a malformed length
            if too_big:
                await refuse(send, limit)
                return
        received = 0
        started = cut_off = False

        async def counting_receive() -> Message:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if cut_off:  # the 413 closes the connection: the server reads no more of the body
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await refuse(send, limit)


async def refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large(limit)}).encode()
    # Connection: close, so the server does not wait for (or read) the rest of the body
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
