"""Attachments over HTTP: a customer (its conversation token) or the assigned agent uploads a file;
either side downloads it. Thin: app/attachments.py checks, stores and publishes.

The body is the file itself (any Content-Type; the type is read from the bytes), its name in
`X-Filename` (percent-encoded UTF-8). app/bodylimit.py refuses a body over
PARLEY_MAX_ATTACHMENT_BYTES with 413 before more of it is read. The customer's token travels in the
`X-Conversation-Token` header, never in the address (addresses reach logs).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response

from app import attachments as att
from app.bodylimit import BodyTooLarge
from app.conversation import DeskError
from app.deps import CurrentAgent, DeskDep
from app.events import agent_event_frame, event_frame
from app.storage.records import Attachment, Conversation

router = APIRouter(tags=["attachments"])
_STATUS = {"not_found": 404, "not_owner": 403, "invalid_state": 409, "too_many_attachments": 409,
           "unsupported_type": 415, "empty_file": 422}
AttachmentId = Annotated[str, Path(pattern=r"^att_[0-9a-f]{32}$", description="The attachment's id (`att_…`)")]
ConversationPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
TokenHeader = Annotated[str | None, Header(alias="X-Conversation-Token", max_length=256,
                                           description="The customer's conversation token (the `session` frame's)")]
NameHeader = Annotated[str | None, Header(alias="X-Filename", max_length=2048,
                                          description="The file's name, percent-encoded UTF-8 (cleaned by the server)")]
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or an unknown credential"}, 403: {"description": "another agent owns the conversation"},
    409: {"description": "not assigned to you, or too many attachments"}, 413: {"description": "the file is too large"},
    415: {"description": "not an accepted type (decided by the content)"}, 422: {"description": "an empty file"},
    429: {"description": "rate limited"}}
UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def _refused(exc: DeskError) -> HTTPException:
    return HTTPException(_STATUS.get(exc.code, 422), {"code": exc.code, "detail": exc.detail})


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _read_file(request: Request, limit: int) -> bytes:
    """The body, up to `limit` bytes: past it, 413 and nothing more is read (BodyLimit cuts it too)."""
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _limited(request: Request, conversation_id: str, ip: str | None) -> None:
    refused = await request.app.state.limits.hit_attachment(conversation_id, ip)
    if refused:
        request.app.state.services.desk.metrics.rate_limited.labels(f"{refused}_attachments").inc()
        raise HTTPException(429, {"code": "rate_limited", "detail": "too many attachments; try again later"})


async def _customer(desk: Any, token: str | None) -> Conversation:
    conv = await desk.conversation_for_token(token) if token else None
    if conv is None:
        raise HTTPException(401, "send the conversation token in X-Conversation-Token")
    return conv


def _file(attachment: Attachment) -> Response:
    return Response(attachment.data, media_type=attachment.content_type, headers=att.download_headers(attachment))


@router.post("/api/chat/attachments", status_code=201, responses=UPLOAD_ERRORS, openapi_extra=UPLOAD_BODY)
async def customer_upload(request: Request, desk: DeskDep, token: TokenHeader = None,
                          filename: NameHeader = None) -> dict[str, Any]:
    """Attach a file to the customer's conversation: stored as their message (`attachment` field)
    before this answers, and sent to the agents like any message."""
    conv = await _customer(desk, token)
    await _limited(request, conv.id, _ip(request))
    content = await _read_file(request, desk.settings.max_attachment_bytes)
    try:
        event = await att.customer_attachment(desk, conv.id, content, filename)
    except DeskError as exc:
        raise _refused(exc) from None
    return {"event": event_frame(event)}


@router.get("/api/chat/attachments/{attachment_id}", responses={401: {}, 404: {}},
            response_class=Response)
async def customer_download(attachment_id: AttachmentId, desk: DeskDep, token: TokenHeader = None) -> Response:
    """A file of the customer's own conversation (any other is 404)."""
    conv = await _customer(desk, token)
    attachment = await desk.store.get_attachment(attachment_id)
    if attachment is None or attachment.conversation_id != conv.id:
        raise HTTPException(404, "no such attachment in this conversation")
    return _file(attachment)


@router.post("/api/console/conversations/{conversation_id}/attachments", status_code=201, responses=UPLOAD_ERRORS,
             openapi_extra=UPLOAD_BODY)
async def agent_upload(conversation_id: ConversationPath, request: Request, user: CurrentAgent, desk: DeskDep,
                       filename: NameHeader = None) -> dict[str, Any]:
    """The assigned agent attaches a file: stored as their reply, sent to the customer."""
    try:
        await att.check_agent(desk, conversation_id, user)  # before reading the file; checked again when stored
    except DeskError as exc:
        raise _refused(exc) from None
    await _limited(request, conversation_id, None)
    content = await _read_file(request, desk.settings.max_attachment_bytes)
    try:
        event = await att.agent_attachment(desk, conversation_id, user, content, filename)
    except DeskError as exc:
        raise _refused(exc) from None
    return agent_event_frame(event)


@router.get("/api/console/attachments/{attachment_id}", responses={401: {}, 404: {}}, response_class=Response)
async def staff_download(attachment_id: AttachmentId, user: CurrentAgent, desk: DeskDep) -> Response:
    """Any attachment, for agents and admins (they read every transcript)."""
    attachment = await desk.store.get_attachment(attachment_id)
    if attachment is None:
        raise HTTPException(404, "no such attachment")
    return _file(attachment)
