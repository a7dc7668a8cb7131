"""The customer's own transcript: the download, the email, and the email's confirmation link.

What a transcript holds and how the email is proven and sent is app/transcripts.py; these routes
find the conversation by its token, check mail is set up and the rate limits, and answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from app.chat_schemas import TranscriptEmail
from app.deps import DeskDep
from app.transcripts import (
    pending_confirmation,
    send_confirmation,
    send_transcript,
    spend_confirmation,
    transcript_json,
    transcript_text,
    verified_email,
)
from app.validation import Line

router = APIRouter(tags=["chat"])


@router.get("/api/chat/transcript", tags=["chat"], responses={404: {}})
async def customer_transcript(desk: DeskDep, token: str = Query(min_length=1, max_length=128),
                              format: str = Query(default="txt", pattern="^(txt|json)$")) -> Response:
    conv = await desk.conversation_for_token(token)
    if conv is None:
        raise HTTPException(404, "no conversation for this token")
    events = await desk.transcript(conv.id)  # public events only: notes never leave the desk
    if format == "json":
        return JSONResponse(transcript_json(conv.id, events))
    return PlainTextResponse(transcript_text(conv.id, events), headers={
        "Content-Disposition": f'attachment; filename="transcript-{conv.id}.txt"',
        "X-Content-Type-Options": "nosniff"})


@router.post("/api/chat/transcript/email", tags=["chat"], status_code=202,
             responses={404: {}, 429: {}, 502: {}, 503: {}})
async def email_transcript(body: TranscriptEmail, request: Request, desk: DeskDep) -> dict[str, Any]:
    """Email the customer's transcript (public messages only, as in the download) to `email`."""
    conv = await desk.conversation_for_token(body.token)
    if conv is None:
        raise HTTPException(404, "no conversation for this token")
    settings = desk.settings
    if not settings.smtp_url:
        raise HTTPException(503, "email is not set up on this desk; download the transcript instead")
    refused = await request.app.state.limits.hit_transcript_email(
        conv.id, request.client.host if request.client else "unknown")
    if refused:
        limit = {"conversation": settings.transcript_emails_per_hour, "ip": settings.transcript_emails_per_ip_per_hour,
                 "desk": settings.transcript_emails_total_per_hour}[refused]
        raise HTTPException(429, f"at most {limit} transcript emails an hour"
                                 + {"conversation": "", "ip": " from one address", "desk": " from this desk"}[refused])
    if verified_email(conv.contact) == body.email.lower():
        await send_transcript(desk, conv.id, body.email)
        return {"sent": True, "email": body.email}
    # Any other address must prove it is the customer's first (app/transcripts.py).
    await send_confirmation(desk, conv, body.email, str(request.base_url))
    return {"sent": False, "confirmation_sent": True, "email": body.email}


@router.get("/api/chat/transcript/confirm", tags=["chat"], response_class=HTMLResponse,
            responses={403: {}, 404: {}, 429: {}, 502: {}, 503: {}})
async def confirm_transcript_email(request: Request, desk: DeskDep, c: Line = Query(min_length=1, max_length=64),
                                   k: Line = Query(min_length=16, max_length=64)) -> HTMLResponse:
    """The link in the confirmation email: the address is the customer's, so the transcript goes
    (once: the code is spent)."""
    conv = await desk.store.get_conversation(c)
    pending = pending_confirmation(conv, k)
    if conv is None or pending is None:
        raise HTTPException(403, "this link is not valid or has expired")
    if not desk.settings.smtp_url:
        raise HTTPException(503, "email is not set up on this desk")
    refused = await request.app.state.limits.hit_transcript_email(
        conv.id, request.client.host if request.client else "unknown")
    if refused:
        raise HTTPException(429, "too many transcript emails; try again later")
    await spend_confirmation(desk, conv)
    await send_transcript(desk, conv.id, str(pending["email"]))
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>Transcript sent</title>"
                        "<p>Your transcript is on its way. You can close this page.</p>",
                        headers={"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"})
