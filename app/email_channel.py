"""The email channel: replies out by email, email in to conversations, one worker that does both.

Out: every server process runs a `MailChannel` worker. It reads the stored events after a shared
cursor (app/storage/mail.py): an agent's reply (and, in a conversation started by email, the bot's
answers too) joins the conversation's outbox batch, due PARLEY_MAIL_BATCH_SECONDS after the first.
Until then every process marks the batch `seen` when it holds a live socket of that customer (they
read the replies in the chat); what is still pending when due is emailed, one email per batch, to
the conversation's proven address only, with threading headers, a plain-text and an HTML part, a
link back to the conversation and a per-conversation reply address
(`reply+<conversation>.<HMAC signature>@PARLEY_MAIL_REPLY_DOMAIN`). SMTP failures are internal
events on the case and retried with doubling waits, PARLEY_MAIL_MAX_ATTEMPTS times in all.

Proven addresses follow the transcript email's rule (app/transcripts.py): the email the host site
signed (identity verification), or one that followed a confirmation link; an email the customer
typed on the offline form is a claim, so it first gets a fixed confirmation email (no words of the
conversation) and the replies once it is confirmed. A conversation started by email is answered at
its sender's address, as every mail desk does.

In: `receive(raw, recipients)` is the one entry of the built-in SMTP receiver (aiosmtpd) and of
POST /api/mail/inbound. It parses MIME with the standard library, keeps the new text (no quoted
history, no signature), and either continues the conversation a valid signed reply address names,
or, sent to PARLEY_MAIL_SUPPORT_ADDRESS, starts a conversation (channel email) that goes through
`Desk.receive_customer_message` like a chat message: the bot answers, or escalates, and the answer
goes out by email. The From header is never trusted to choose a conversation.

The parts: app/email_addresses.py (signing, proven addresses), app/email_parsing.py (one inbound
email read and checked), app/email_inbound.py (email in) and app/email_outbound.py (email out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from app.config import Settings
from app.email_addresses import Signer, proven_address, reply_domain
from app.email_inbound import MailReceiving
from app.email_outbound import MailSending
from app.storage.mail import MailStore
from app.storage.mail_threads import Thread
from app.storage.records import Conversation, Event
from app.tasks import cancel

log = logging.getLogger("parley.mail")


class MailChannel(MailReceiving, MailSending):
    """Email out and in for one server process (or `parley mail serve`)."""

    def __init__(self, settings: Settings, desk: Any, is_connected: Callable[[str], bool] | None = None) -> None:
        self.settings = settings
        self.desk = desk
        self.store = desk.store
        self.mail = MailStore(desk.store)
        self.is_connected = is_connected or (lambda cid: False)
        self.signer: Signer | None = None
        self.domain = reply_domain(settings)
        self._task: asyncio.Task[None] | None = None
        self._receiver: Any = None

    @staticmethod
    def proven_address(conv: Conversation, thread: Thread | None) -> str | None:
        return proven_address(conv, thread)

    @property
    def sends(self) -> bool:
        return bool(self.settings.smtp_url)

    async def open(self) -> "MailChannel":
        self.signer = Signer(await self.mail.secret())
        return self

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="parley-mail")

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
            await self._receiver.wait_closed()
            self._receiver = None
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail worker tick failed")
            await asyncio.sleep(self.settings.mail_interval_seconds)

    # ------------------------------------------------------------------ one pass
    async def tick(self) -> None:
        from app import followup

        delay = self.settings.followup_delay
        await self.mail.collect(self._emails, lambda e: followup.plan(e, delay), self.settings.mail_batch_seconds)
        if delay > 0:
            await followup.send_due(self)
        pending = await self.mail.pending_conversations()
        live = [cid for cid in pending if self.is_connected(cid)]
        if live:
            await self.mail.mark_seen(live)
        if self.sends:
            for item in await self.mail.claim_due():
                await self.flush(item)

    def _emails(self, event: Event, thread: Thread | None) -> bool:
        """Does this stored event go out by email (if the customer is not there to read it)?"""
        if not self.sends or event.kind not in ("message", "handoff") or event.visibility != "public":
            return False
        if event.data.get("action") in ("followup_answer", "contact"):
            return False
        if thread is not None and thread.channel == "email":
            if event.kind == "handoff":
                return event.data.get("status") == "queued"  # "we have your request; a person will reply"
            return event.sender in ("bot", "agent", "system")
        return event.kind == "message" and event.sender == "agent"


__all__ = ["MailChannel"]
