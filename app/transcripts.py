"""The customer's transcript (app/routes/transcripts.py): as text or JSON, and sent by email.

The download and the email carry public messages and handoffs only: notes never leave the desk.
The email goes at once to the address the host site signed for the customer (identity
verification). Any other address must prove it is the customer's: it gets a fixed confirmation
email (no text of the conversation's) with a one-time link, valid CONFIRM_SECONDS, and the
transcript only when it is followed. So the endpoint cannot relay anyone's words to an address of
their choice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException

from app.attachments import export_text
from app.conversation import transcript_entry
from app.mail import MailError, compose, send as send_mail
from app.storage.records import Conversation, Event

log = logging.getLogger("parley.chat")  # the logger these lines have always used

CONFIRM_SECONDS = 24 * 3600


def transcript_text(conversation_id: str, events: list[Event]) -> str:
    """The customer's transcript as readable text: public messages and handoffs only."""
    lines = [f"Conversation {conversation_id}", ""]
    for e in events:
        if e.kind in ("message", "handoff"):
            who = (e.data.get("agent") or {}).get("name") if e.sender == "agent" else e.sender.capitalize()
            lines.append(transcript_entry(f"[{e.created_at:%Y-%m-%d %H:%M}] {who}: ", export_text(e)))
    return "\n".join(lines) + "\n"


def transcript_json(conversation_id: str, events: list[Event]) -> dict[str, Any]:
    """The transcript download's `format=json` body: public messages and handoffs only."""
    return {"conversation_id": conversation_id, "messages": [
        {"seq": e.seq, "sender": e.sender, "text": e.text, "created_at": e.created_at.isoformat()}
        for e in events if e.kind in ("message", "handoff")]}


def verified_email(contact: dict[str, Any]) -> str | None:
    """The email the site signed for this customer (identity verification), if any."""
    if contact.get("verified") and "email" in (contact.get("verified_fields") or []) and contact.get("email"):
        return str(contact["email"]).lower()
    return None


async def send_transcript(desk: Any, conversation_id: str, email: str) -> None:
    events = await desk.transcript(conversation_id)
    message = compose(desk.settings.mail_from, email, "Your conversation transcript",
                      transcript_text(conversation_id, events))
    try:
        await asyncio.to_thread(send_mail, desk.settings.smtp_url, message)
    except MailError as exc:
        log.warning("transcript email failed: %s", exc)
        raise HTTPException(502, "the mail server did not take the email; try again later") from None
    log.info("transcript emailed", extra={"conversation_id": conversation_id})


async def send_confirmation(desk: Any, conv: Conversation, email: str, base_url: str) -> None:
    """Store a one-time code for `email` and send it the fixed confirmation email with the link
    (to PARLEY_PUBLIC_URL when set, else to `base_url`, the address the request came to)."""
    settings = desk.settings
    nonce = secrets.token_urlsafe(24)  # a one-time code, sent only to the address to be proven
    expires = int(time.time()) + CONFIRM_SECONDS
    pending = {"email": email.lower(), "code": hashlib.sha256(nonce.encode()).hexdigest(), "expires": expires}
    await desk.store.update_conversation(conv.id, bot_state=dict(conv.bot_state, transcript_confirm=pending))
    link = (settings.public_url.rstrip("/") or base_url.rstrip("/")) + "/api/chat/transcript/confirm?" + \
        urlencode({"c": conv.id, "k": nonce})
    text = ("Someone asked for the transcript of a support conversation to be sent to this address.\n\n"
            f"To receive it, open this link within 24 hours:\n{link}\n\n"
            "If that was not you, ignore this email: nothing will be sent.\n")
    try:
        await asyncio.to_thread(send_mail, settings.smtp_url, compose(
            settings.mail_from, email, "Confirm your email to receive your transcript", text))
    except MailError as exc:
        log.warning("transcript confirmation email failed: %s", exc)
        raise HTTPException(502, "the mail server did not take the email; try again later") from None


def pending_confirmation(conv: Conversation | None, code: str) -> dict[str, Any] | None:
    """The confirmation `code` (from the link) proves, if it is the conversation's and not expired."""
    pending = (conv.bot_state.get("transcript_confirm") if conv is not None else None) or {}
    if (conv is None or not pending or pending.get("expires", 0) < time.time()
            or not hmac.compare_digest(str(pending.get("code")), hashlib.sha256(code.encode()).hexdigest())):
        return None
    return dict(pending)


async def spend_confirmation(desk: Any, conv: Conversation) -> None:
    """Forget the code: the link sends the transcript once."""
    state = dict(conv.bot_state)
    state.pop("transcript_confirm", None)
    await desk.store.update_conversation(conv.id, bot_state=state)
