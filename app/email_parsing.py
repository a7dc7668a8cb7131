"""Parsing and validating one inbound email: size limit, MIME, the From address, auto-replies,
the new text of a reply (no quoted history, no signature) and the recipients a webhook did not name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from app.email_addresses import MAX_REFERENCES


class MailRefused(Exception):
    """Inbound mail refused: `code` is the SMTP reply code (the webhook maps it to HTTP)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


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


def recipients_from_headers(raw: bytes) -> list[str]:
    """The webhook's recipients when the provider does not name them: To, Cc, Delivered-To."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        values = [str(v) for h in ("Delivered-To", "X-Original-To", "To", "Cc") for v in message.get_all(h) or []]
    except Exception:
        return []
    return [a for _, a in getaddresses(values) if "@" in a][:50]
