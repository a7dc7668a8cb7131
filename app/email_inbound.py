"""Email in: a parsed email (app/email_parsing.py) becomes a customer message in a conversation.

`MailReceiving` is the inbound half of `MailChannel` (app/email_channel.py): a valid signed reply
address continues its conversation, mail to PARLEY_MAIL_SUPPORT_ADDRESS starts one; auto-replies,
our own mail and repeats are dropped, and new conversations are limited per sender and per hour.
`SmtpHandler` is the built-in SMTP receiver's (aiosmtpd) side of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from app.email_addresses import MAX_REFERENCES, ChannelState
from app.email_parsing import MailRefused, parse_inbound
from app.storage.mail import utcnow

log = logging.getLogger("parley.mail")


@dataclass(frozen=True)
class Received:
    code: int
    reason: str
    conversation_id: str | None = None


class MailReceiving(ChannelState):
    """The inbound methods of MailChannel."""

    _receiver: Any

    def check_recipient(self, address: str) -> str | None:
        """Why mail to this address is refused, or None (the SMTP receiver asks at RCPT)."""
        assert self.signer is not None
        cid, is_reply = self.signer.conversation_for(address, self.domain)
        if is_reply:
            return None if cid else "no such conversation"
        support = self.settings.mail_support_address
        if support and address.strip().lower() == parseaddr(support)[1].lower():
            return None
        return "no such recipient"

    async def receive(self, raw: bytes, recipients: list[str]) -> Received:
        """Email in (SMTP receiver or webhook). Never raises for bad mail: the code says why."""
        try:
            return await self._receive(raw, recipients)
        except MailRefused as exc:
            log.warning("inbound email refused: %s", exc.reason, extra={"smtp_code": exc.code})
            return Received(exc.code, exc.reason)

    async def _receive(self, raw: bytes, recipients: list[str]) -> Received:
        assert self.signer is not None
        mail = parse_inbound(raw, self.settings.mail_max_bytes)
        target: str | None = None
        new = False
        for rcpt in recipients[:50]:
            cid, is_reply = self.signer.conversation_for(rcpt, self.domain)
            if is_reply:
                if cid is None:
                    raise MailRefused(550, "no such conversation (the reply address is not valid)")
                target = cid
                break
            support = self.settings.mail_support_address
            if support and rcpt.strip().lower() == parseaddr(support)[1].lower():
                new = True
        if target is None and not new:
            raise MailRefused(550, "no such recipient")
        if mail.auto:
            log.info("inbound auto-reply dropped", extra={"conversation_id": target})
            return Received(250, "auto-reply: not answered", target)
        if mail.sender == parseaddr(self.settings.mail_from)[1].lower():
            return Received(250, "our own mail: dropped", target)
        text = mail.text.strip()
        if not text:
            raise MailRefused(550, "the email has no new text (only quoted history or a signature)")
        limit = self.settings.max_message_chars
        if len(text) > limit:
            text = text[: limit - 20].rstrip() + "\n[…] (shortened)"
        from app.events import FrameError, check_text

        try:
            text = check_text(text, limit)
        except FrameError as exc:
            raise MailRefused(550, exc.detail) from None
        msg_key = hashlib.sha256((mail.message_id or hashlib.sha256(raw).hexdigest()).encode()).hexdigest()
        client_msg_id = f"mail:{msg_key[:40]}"
        if target is not None:
            conv = await self.store.get_conversation(target)
            if conv is None:
                raise MailRefused(550, "no such conversation")
            thread = await self.mail.get_thread(conv.id)
            if thread is None:
                thread = await self.mail.ensure_thread(conv.id, "widget", mail.subject or "Your support request")
        else:
            existing = await self._conversation_of_message(msg_key)
            if existing is not None:
                return Received(250, "already received", existing)  # the same email delivered again
            hour_ago = utcnow() - timedelta(hours=1)
            if await self.mail.new_threads_since(hour_ago, mail.sender) >= self.settings.mail_new_per_sender_per_hour:
                raise MailRefused(450, "too many new conversations from this address; try again later")
            if await self.mail.new_threads_since(hour_ago) >= self.settings.mail_new_total_per_hour:
                raise MailRefused(450, "too many new conversations by email; try again later")
            conv, _token = await self.desk.start_conversation("en", None)
            await self._remember_message(msg_key, conv.id)
            contact = {"email": mail.sender, "channel": "email"}
            if mail.name:
                contact["name"] = mail.name
            await self.store.update_conversation(conv.id, contact=contact)
            # the From of a new email is where its answers go (every mail desk's rule; a forged
            # From gets answers to the forger's own words, never anyone's conversation)
            thread = await self.mail.ensure_thread(conv.id, "email", mail.subject or "Your support request",
                                                   address=mail.sender)
        if mail.message_id:
            references = [*thread.references, *mail.references, mail.message_id]
            await self.mail.update_thread(conv.id, last_message_id=mail.message_id,
                                          references=list(dict.fromkeys(references))[-MAX_REFERENCES:])
        await self.desk.receive_customer_message(conv.id, text, client_msg_id)
        log.info("inbound email stored", extra={"conversation_id": conv.id, "new_conversation": target is None})
        return Received(250, "stored", conv.id)

    async def _conversation_of_message(self, key: str) -> str | None:
        import sqlalchemy as sa

        from app.storage.mail import mail_state

        async with self.store.engine.connect() as conn:
            row = (await conn.execute(sa.select(mail_state.c.value).where(mail_state.c.key == f"m:{key[:38]}"))).first()
        return str(row.value) if row else None

    async def _remember_message(self, key: str, conversation_id: str) -> None:
        from app.storage.mail import mail_state

        async with self.store.engine.begin() as conn:
            await conn.execute(mail_state.insert().values(key=f"m:{key[:38]}", value=conversation_id))

    # ------------------------------------------------------------------ the SMTP receiver
    async def serve_smtp(self, host: str, port: int) -> Any:
        """The built-in receiver (aiosmtpd) on this event loop; returns the asyncio server."""
        from aiosmtpd.smtp import SMTP

        handler = SmtpHandler(self)
        loop = asyncio.get_running_loop()
        limit = self.settings.mail_max_bytes
        self._receiver = await loop.create_server(
            lambda: SMTP(handler, data_size_limit=limit, hostname=self.domain, ident="Parley", enable_SMTPUTF8=True),
            host=host, port=port)
        log.info("SMTP receiver listening on %s:%d", host, port)
        return self._receiver


class SmtpHandler:
    """aiosmtpd handler: recipients are checked at RCPT, the message at DATA; both answer with
    the reason in the SMTP reply, so the sender's server bounces it to them."""

    def __init__(self, channel: MailReceiving) -> None:
        self.channel = channel

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        problem = self.channel.check_recipient(address)
        if problem:
            log.warning("inbound email refused at RCPT: %s", problem)
            return f"550 5.1.1 {problem}"
        if len(envelope.rcpt_tos) >= 50:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            result = await self.channel.receive(raw, list(envelope.rcpt_tos))
        except Exception:
            log.exception("inbound email failed")
            return "451 4.3.0 temporary failure; try again later"
        if result.code == 250:
            return "250 OK"
        enhanced = {552: "5.3.4", 554: "5.6.0", 450: "4.7.1"}.get(result.code, "5.7.1")
        return f"{result.code} {enhanced} {result.reason}"
