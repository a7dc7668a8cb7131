"""Who the email channel writes to and how its addresses and links are signed.

`Signer` signs the per-conversation reply addresses (`reply+<conversation>.<HMAC signature>@domain`)
and the links in emails (app/routes/mail.py checks them); a proven address is the one replies may be
emailed to (app/email_channel.py says which addresses are proven). `ChannelState` is what
MailChannel's two halves (app/email_inbound.py, app/email_outbound.py) know of it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import parseaddr
from typing import Any

from app.config import Settings
from app.storage.mail import MailStore
from app.storage.mail_threads import Thread
from app.storage.records import Conversation

SIGNATURE_HEX = 20  # 80 bits of HMAC-SHA256 in a reply address
REPLY_LOCAL = re.compile(r"^reply\+(c_[0-9a-f]{1,36})\.([0-9a-f]{%d})$" % SIGNATURE_HEX)
MAX_REFERENCES = 10  # Message-IDs a thread keeps in References, in and out


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


class ChannelState:
    """The attributes MailChannel sets in __init__ and its halves, MailReceiving and MailSending, use."""

    settings: Settings
    desk: Any
    store: Any
    mail: MailStore
    signer: Signer | None
    domain: str
