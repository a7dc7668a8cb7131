"""Email out: a due outbox batch becomes one email to the proven address, or a confirmation email.

`MailSending` is the outbound half of `MailChannel` (app/email_channel.py, which picks the events
and says when a batch is due): it composes the email (threading headers, plain text and HTML, the
signed links), sends it, retries failures with doubling waits and notes each outcome on the case.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import urlencode

from app.email_addresses import MAX_REFERENCES, ChannelState, desk_name, proven_address
from app.mail import MailError, send as send_mail
from app.storage.mail import utcnow
from app.storage.mail_outbox import OutboxItem
from app.storage.mail_threads import Thread
from app.storage.records import Conversation, Event
from knowledge_base.render import render_markdown

log = logging.getLogger("parley.mail")

CONFIRM_DAYS = 7


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "Your support request"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


class MailSending(ChannelState):
    """The outbound methods of MailChannel."""

    def public_base(self) -> str:
        return self.settings.public_url.rstrip("/") or "http://127.0.0.1:8000"

    async def flush(self, item: OutboxItem) -> None:
        conv = await self.store.get_conversation(item.conversation_id)
        if conv is None:
            await self.mail.finish(item.id, "failed", error="conversation gone")
            return
        thread = await self.mail.get_thread(conv.id)
        address = proven_address(conv, thread)
        if address is None:
            claimed = str(conv.contact.get("email") or "").lower()
            if not claimed:
                await self.mail.finish(item.id, "no_address")
                return
            if thread is None or thread.confirm_sent_to != claimed:
                if not await self._send_confirmation(conv, thread, claimed, item):
                    return
            await self.mail.finish(item.id, "held")  # sent once the address follows its link
            return
        events = [e for e in await self.desk.transcript(conv.id, min(item.seqs) - 1) if e.seq in set(item.seqs)]
        if not events:
            await self.mail.finish(item.id, "sent")
            return
        if thread is None:
            thread = await self.mail.ensure_thread(conv.id, "widget", f"Your conversation with {desk_name(self.settings)}")
        message = self.compose(conv, thread, address, events, item.id)
        try:
            await asyncio.to_thread(send_mail, self.settings.smtp_url, message)
        except MailError as exc:
            await self._failed(conv, item, str(exc))
            return
        message_id = str(message["Message-ID"])
        await self.mail.finish(item.id, "sent", message_id=message_id)
        references = [*thread.references, *( [thread.last_message_id] if thread.last_message_id else [])]
        await self.mail.update_thread(conv.id, last_message_id=message_id,
                                      references=list(dict.fromkeys(references))[-MAX_REFERENCES:])
        await self._note(conv.id, f"Emailed to {address} ({len(events)} message{'s' if len(events) != 1 else ''}).",
                         {"action": "email_sent", "seqs": [e.seq for e in events], "message_id": message_id})
        log.info("reply emailed", extra={"conversation_id": conv.id, "messages": len(events)})

    async def _failed(self, conv: Conversation, item: OutboxItem, error: str) -> None:
        attempts, limit = item.attempts, self.settings.mail_max_attempts
        if attempts < limit:
            wait = self.settings.mail_retry_seconds * 2 ** (attempts - 1)
            await self.mail.finish(item.id, "pending", error=error, retry_at=utcnow() + timedelta(seconds=wait))
            text = f"Email delivery failed (attempt {attempts} of {limit}): {error}. Retrying in {wait:g} s."
        else:
            await self.mail.finish(item.id, "failed", error=error)
            text = f"Email delivery failed (attempt {attempts} of {limit}): {error}. Gave up: the customer did not get it."
        log.warning("reply email failed", extra={"conversation_id": conv.id, "attempt": attempts, "error": error[:200]})
        await self._note(conv.id, text, {"action": "email_failed", "attempt": attempts, "max_attempts": limit,
                                         "final": attempts >= limit, "seqs": item.seqs})

    async def _note(self, conversation_id: str, text: str, data: dict[str, Any]) -> None:
        """An internal event on the case: agents see it in the console, the customer never does."""
        event, _ = await self.store.append_event(conversation_id, "note", "system", text, visibility="internal",
                                                 data=data)
        await self.desk.publish(event)

    def reply_address(self, conversation_id: str) -> str:
        assert self.signer is not None
        return f"{self.signer.reply_local_part(conversation_id)}@{self.domain}"

    def view_link(self, conversation_id: str) -> str:
        assert self.signer is not None
        return self.public_base() + "/api/mail/view?" + urlencode(
            {"c": conversation_id, "s": self.signer.sign("view", conversation_id)})

    def followup_link(self, followup_id: int, answer: str) -> str:
        assert self.signer is not None
        return self.public_base() + "/api/mail/followup?" + urlencode(
            {"f": followup_id, "a": answer, "s": self.signer.sign("followup", str(followup_id), answer)})

    def compose(self, conv: Conversation, thread: Thread, to: str, events: list[Event], item_id: int) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Reply-To"] = formataddr((desk_name(self.settings), self.reply_address(conv.id)))
        message["Subject"] = reply_subject(thread.subject) if thread.channel == "email" else thread.subject
        message["Message-ID"] = make_msgid(idstring=f"{conv.id}.{item_id}", domain=self.domain)
        if thread.last_message_id:
            message["In-Reply-To"] = thread.last_message_id
            message["References"] = " ".join(list(dict.fromkeys([*thread.references, thread.last_message_id]))
                                              [-MAX_REFERENCES:])
        if all(e.sender in ("bot", "system") for e in events):
            message["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
        link = self.view_link(conv.id)
        text_parts: list[str] = []
        html_parts: list[str] = []
        for e in events:
            who = ((e.data.get("agent") or {}).get("name") or "Agent") if e.sender == "agent" else (
                desk_name(self.settings) if e.sender in ("bot", "system") else "You")
            text_parts.append(f"{who}:\n{e.text}")
            body = render_markdown(e.text) if e.sender == "bot" else \
                "<p>" + html.escape(e.text).replace("\n", "<br>\n") + "</p>"
            html_parts.append(f"<p><strong>{html.escape(who)}</strong></p>\n{body}")
            if e.kind == "followup":
                fid = int(e.data["followup_id"])
                yes, no = self.followup_link(fid, "yes"), self.followup_link(fid, "no")
                text_parts.append(f"Yes, it is solved: {yes}\nNo, I still need help: {no}")
                html_parts.append(f'<p><a href="{html.escape(yes)}">Yes, it is solved</a> &nbsp; '
                                  f'<a href="{html.escape(no)}">No, I still need help</a></p>')
        footer = f"Reply to this email to answer, or read the whole conversation: {link}"
        message.set_content("\n\n".join(text_parts) + "\n\n-- \n" + footer + "\n")
        message.add_alternative(
            "<!doctype html><html><body>" + "\n".join(html_parts)
            + f'<hr><p style="color:#666">Reply to this email to answer, or '
              f'<a href="{html.escape(link)}">read the whole conversation</a>.</p></body></html>', subtype="html")
        return message

    async def _send_confirmation(self, conv: Conversation, thread: Thread | None, email: str,
                                 item: OutboxItem) -> bool:
        """A fixed email with a signed link: no word of the conversation reaches an unproven address."""
        assert self.signer is not None
        expires = str(int((utcnow() + timedelta(days=CONFIRM_DAYS)).timestamp()))
        link = self.public_base() + "/api/mail/confirm?" + urlencode(
            {"c": conv.id, "e": email, "x": expires, "s": self.signer.sign("confirm", conv.id, email, expires)})
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = email
        message["Subject"] = "You have a reply: confirm your email to receive it"
        message["Message-ID"] = make_msgid(idstring=f"{conv.id}.confirm", domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(
            "Someone left this address in a support chat, and there is a reply waiting.\n\n"
            f"To receive replies by email, confirm this address within {CONFIRM_DAYS} days:\n{link}\n\n"
            "If that was not you, ignore this email: nothing more will be sent.\n")
        try:
            await asyncio.to_thread(send_mail, self.settings.smtp_url, message)
        except MailError as exc:
            await self._failed(conv, item, str(exc))
            return False
        if thread is None:
            await self.mail.ensure_thread(conv.id, "widget", f"Your conversation with {desk_name(self.settings)}")
        await self.mail.update_thread(conv.id, confirm_sent_to=email)
        await self._note(conv.id, f"Asked {email} to confirm itself before replies are emailed to it.",
                         {"action": "email_confirmation_sent"})
        return True

    async def confirm(self, conversation_id: str, email: str, expires: str, signature: str) -> bool:
        assert self.signer is not None
        if not expires.isdigit() or int(expires) < utcnow().timestamp():
            return False
        if not self.signer.check(signature, "confirm", conversation_id, email, expires):
            return False
        conv = await self.store.get_conversation(conversation_id)
        if conv is None or str(conv.contact.get("email") or "").lower() != email:
            return False  # the customer left another address since
        await self.mail.ensure_thread(conversation_id, "widget", f"Your conversation with {desk_name(self.settings)}")
        await self.mail.update_thread(conversation_id, address=email)
        await self.mail.release_held(conversation_id)
        await self._note(conversation_id, f"{email} confirmed: replies now go to it by email.",
                         {"action": "email_confirmed"})
        return True
