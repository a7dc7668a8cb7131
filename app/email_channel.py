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

Proven addresses follow the transcript email's rule (app/routes/chat.py): the email the host site
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
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from app.config import Settings
from app.mail import MailError, send as send_mail
from app.storage.mail import MailStore, OutboxItem, Thread, utcnow
from app.storage.records import Conversation, Event
from knowledge_base.render import render_markdown

log = logging.getLogger("parley.mail")

SIGNATURE_HEX = 20  # 80 bits of HMAC-SHA256 in a reply address
REPLY_LOCAL = re.compile(r"^reply\+(c_[0-9a-f]{1,36})\.([0-9a-f]{%d})$" % SIGNATURE_HEX)
MAX_REFERENCES = 10
CONFIRM_DAYS = 7


class MailRefused(Exception):
    """Inbound mail refused: `code` is the SMTP reply code (the webhook maps it to HTTP)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Received:
    code: int
    reason: str
    conversation_id: str | None = None


# ----------------------------------------------------------------------------- signing
class Signer:
    """HMAC-SHA256 over a purpose and its values: reply addresses, links in emails."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def sign(self, purpose: str, *values: str) -> str:
        message = "\n".join([purpose, *values]).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def check(self, signature: str, purpose: str, *values: str, length: int = 64) -> bool:
        return hmac.compare_digest(self.sign(purpose, *values)[:length], signature.lower()[:length]) and \
            len(signature) == length

    def reply_local_part(self, conversation_id: str) -> str:
        return f"reply+{conversation_id}.{self.sign('reply', conversation_id)[:SIGNATURE_HEX]}"

    def conversation_for(self, address: str, domain: str) -> tuple[str | None, bool]:
        """(conversation id, is a reply address): the id only when the signature is right."""
        local, _, host = address.strip().lower().rpartition("@")
        if not local.startswith("reply+") or (domain and host != domain.lower()):
            return None, False
        match = REPLY_LOCAL.match(local)
        if not match:
            return None, True
        cid, signature = match.groups()
        return (cid if self.check(signature, "reply", cid, length=SIGNATURE_HEX) else None), True


def reply_domain(settings: Settings) -> str:
    if settings.mail_reply_domain:
        return settings.mail_reply_domain.lower()
    return parseaddr(settings.mail_from)[1].rpartition("@")[2].lower() or "localhost"


def desk_name(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[0] or "Support"


def verified_email(contact: dict[str, Any]) -> str | None:
    """The email the host site signed for this customer (the transcript email's rule)."""
    if contact.get("verified") and "email" in (contact.get("verified_fields") or []) and contact.get("email"):
        return str(contact["email"]).lower()
    return None


def proven_address(conv: Conversation, thread: Thread | None) -> str | None:
    if thread is not None and thread.address:
        return thread.address
    return verified_email(conv.contact)


# ----------------------------------------------------------------------------- inbound parsing
_QUOTE_HEADS = [
    re.compile(r"^\s*On\b.{0,400}\bwrote:\s*$", re.I),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^\s*Le\b.{0,400}\ba écrit\s*:\s*$", re.I),
    re.compile(r"^\s*Am\b.{0,400}\bschrieb\b.{0,200}:\s*$", re.I),
    re.compile(r"^\s*El\b.{0,400}\bescribió:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
    re.compile(r"^\s*Sent from my \w+", re.I),
    re.compile(r"^\s*Get Outlook for \w+", re.I),
]
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De|Von)\s*:\*?\s", re.I)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Envoyé|Gesendet|À|An|Objet|Betreff)\s*:\*?\s", re.I)


def strip_reply(text: str) -> str:
    """The new part of a reply: no quoted history ("On … wrote:", "> " lines, Outlook's header
    block, "-----Original Message-----"), no signature (from a "-- " line on)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or line == "-- ":
            break  # the signature separator
        if any(p.match(line) for p in _QUOTE_HEADS):
            break
        # "On Tue, 1 Dec 2026 at 10:00, Ann <ann@example.com>" + "wrote:" on the next line
        if re.match(r"^\s*On\b", line) and i + 1 < len(lines) and lines[i + 1].strip().lower().endswith("wrote:") \
                and len(line) < 400:
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1:i + 4]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


class _TextOfHtml(HTMLParser):
    """The text of an HTML-only email: tags dropped, blocks as lines, quoted blocks skipped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        if tag in ("script", "style", "head") or tag == "blockquote" or "gmail_quote" in classes:
            self.skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "blockquote") and self.skip:
            self.skip -= 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.out)).strip()


@dataclass(frozen=True)
class Inbound:
    sender: str  # the From address (a claim: never used to pick a conversation)
    name: str
    subject: str
    message_id: str | None
    references: list[str]
    text: str
    auto: bool  # an auto-reply (out of office, bounce, list mail): never answered


def _part_text(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, AssertionError, ValueError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def parse_inbound(raw: bytes, max_bytes: int) -> Inbound:
    """One RFC 822 message, or MailRefused with the SMTP code and a reason to log."""
    if len(raw) > max_bytes:
        raise MailRefused(552, f"message larger than {max_bytes} bytes")
    if not raw.strip():
        raise MailRefused(554, "empty message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        from_header = message.get("From")
        subject = str(message.get("Subject") or "")[:300]
        message_id = str(message.get("Message-ID") or "").strip()[:300] or None
        refs = str(message.get("References") or "").split() + str(message.get("In-Reply-To") or "").split()
    except Exception as exc:  # the parser is lenient; a header it cannot even read is malformed mail
        raise MailRefused(554, f"malformed message: {type(exc).__name__}") from None
    addresses = getaddresses([str(from_header)]) if from_header else []
    addresses = [(n, a) for n, a in addresses if "@" in a]
    if len(addresses) != 1:
        raise MailRefused(554, "malformed message: it needs exactly one From address")
    name, sender = addresses[0]
    if any(c in sender for c in "\r\n\x00 ") or len(sender) > 254:
        raise MailRefused(554, "malformed message: bad From address")
    auto_submitted = str(message.get("Auto-Submitted") or "no").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    auto = (auto_submitted != "no" or precedence in ("bulk", "junk", "list", "auto_reply")
            or bool(message.get("X-Autoreply")) or bool(message.get("X-Autorespond"))
            or message.get_content_type() == "multipart/report" or sender.lower().startswith("mailer-daemon@"))
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is None:
        text = ""
    elif body.get_content_type() == "text/html":
        text = html_to_text(_part_text(body))
    else:
        text = _part_text(body)
    return Inbound(sender.lower(), name.strip()[:120], subject.replace("\r", " ").replace("\n", " ").strip(),
                   message_id, [r for r in refs if len(r) <= 300][-MAX_REFERENCES:], strip_reply(text), auto)


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "Your support request"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


# ----------------------------------------------------------------------------- the channel
class MailChannel:
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
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
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

    def public_base(self) -> str:
        return self.settings.public_url.rstrip("/") or "http://127.0.0.1:8000"

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

    # ------------------------------------------------------------------ out
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

    # ------------------------------------------------------------------ in
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

    def __init__(self, channel: MailChannel) -> None:
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


def recipients_from_headers(raw: bytes) -> list[str]:
    """The webhook's recipients when the provider does not name them: To, Cc, Delivered-To."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        values = [str(v) for h in ("Delivered-To", "X-Original-To", "To", "Cc") for v in message.get_all(h) or []]
    except Exception:
        return []
    return [a for _, a in getaddresses(values) if "@" in a][:50]


__all__ = ["MailChannel", "MailRefused", "Received", "Signer", "parse_inbound", "strip_reply"]
