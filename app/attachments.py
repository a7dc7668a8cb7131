"""Attachments: a customer or the assigned agent sends a file (an image, a PDF, plain text) in a conversation.

Check, then do, then publish after commit, as for a message (app/conversation.py): the type is
decided by the file's first bytes (`sniff`), never by the name or the client's content type; the
name is cleaned (`clean_name`) and its extension made to match that type; the file and its
message event (kind `message`, `data.attachment`) are stored in one transaction
(app/storage/attachments.py) and the event reaches the other side by the usual delivery path, and
a reconnecting client by seq like any message.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from app.conversation import AGENTS_CHANNEL, Desk, DeskError
from app.storage.attachments import TooManyAttachments
from app.storage.records import Attachment, Event, User
from app.storage.sql import NotFound
from bot.replies import say
from handoff.state import Owner

MAX_NAME_CHARS = 120
CUSTOMER_URL = "/api/chat/attachments/"
STAFF_URL = "/api/console/attachments/"


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/")


PNG = FileType("image/png", ("png",))
JPEG = FileType("image/jpeg", ("jpg", "jpeg"))
GIF = FileType("image/gif", ("gif",))
WEBP = FileType("image/webp", ("webp",))
PDF = FileType("application/pdf", ("pdf",))
TEXT = FileType("text/plain; charset=utf-8", ("txt", "log", "csv"))
TYPES = (PNG, JPEG, GIF, WEBP, PDF, TEXT)

_TEXT_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}


def sniff(content: bytes) -> FileType | None:
    """The file's type by its first bytes, or None for anything not accepted (SVG, HTML, archives,
    executables…). Plain text must be UTF-8 without control characters and must not start with
    `<` (markup: a browser that ignored the stored type could take it for HTML or SVG)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"%PDF-"):
        return PDF
    body = content.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.strip() or text.lstrip().startswith("<") or any(ord(ch) in _TEXT_CONTROLS for ch in text):
        return None
    return TEXT


_UNSAFE_IN_NAMES = frozenset('<>:"|?*')
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, bidi/zero-width, unassigned


def clean_name(raw: str | None, kind: FileType) -> str:
    """A file name safe to show and to save: the last path part only, NFC, without control, format
    (bidirectional overrides, zero-width) or unassigned characters nor `<>:"|?*`, at most 120
    characters, and ending in an extension of the type the bytes are (so `invoice.pdf.exe` or
    `photo.html` that is really a PNG is saved as `….png`)."""
    name = unquote(raw or "", errors="replace")  # clients send it percent-encoded (headers are Latin-1)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if ch in _UNSAFE_IN_NAMES else ch for ch in name
                   if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or ext.lower() not in kind.extensions:
        stem, ext = name or "attachment", kind.extensions[0]
    stem = stem[:MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") or "attachment"
    return f"{stem}.{ext}"


def content_disposition(name: str, inline: bool) -> str:
    """`attachment` (or `inline`, for images) with an ASCII name and the UTF-8 one (RFC 6266 / 5987)."""
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_" for ch in name)
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_headers(attachment: Attachment) -> dict[str, str]:
    """Images inline (they are shown as thumbnails), everything else as a download; never sniffed,
    never scripted, never framed."""
    image = attachment.content_type.startswith("image/")
    return {"Content-Disposition": content_disposition(attachment.name, inline=image),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "private, max-age=300",
            "Referrer-Policy": "no-referrer"}


def attachment_data(attachment_id: str, name: str, kind: FileType, size: int) -> dict[str, Any]:
    """What the event stores about the file (`data.attachment`); the frames add the download url."""
    return {"id": attachment_id, "name": name, "content_type": kind.content_type.split(";")[0], "size": size,
            "image": kind.image}


def human_size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1048576:.1f} MB"


def export_text(event: Event) -> str:
    """An event's text for the text exports: a file is named with its type and size."""
    meta = event.data.get("attachment")
    if not isinstance(meta, dict):
        return event.text
    return f"[attachment: {meta.get('name')}, {meta.get('content_type')}, {human_size(int(meta.get('size') or 0))}]"


def _new_id() -> str:
    return "att_" + secrets.token_hex(16)


async def _store(desk: Desk, conversation_id: str, sender: str, name: str, kind: FileType, content: bytes,
                 extra: dict[str, Any], uploaded_by: int | None) -> tuple[Event, Any]:
    attachment_id = _new_id()
    data = {"attachment": attachment_data(attachment_id, name, kind, len(content)), **extra}
    try:
        return await desk.store.add_attachment(attachment_id, conversation_id, sender, name, kind.content_type,
                                               content, name, data, uploaded_by=uploaded_by,
                                               max_count=desk.settings.max_attachments_per_conversation)
    except TooManyAttachments as exc:
        raise DeskError("too_many_attachments", str(exc)) from None
    except NotFound:  # erased while the file was on its way
        raise DeskError("not_found", f"conversation {conversation_id} not found") from None


def check_file(content: bytes, raw_name: str | None) -> tuple[FileType, str]:
    """The file's type and cleaned name, or DeskError `empty_file` / `unsupported_type`."""
    if not content:
        raise DeskError("empty_file", "the file is empty")
    kind = sniff(content)
    if kind is None:
        raise DeskError("unsupported_type", "only PNG, JPEG, WebP and GIF images, PDF and plain text files can be "
                                            "attached (decided by the file's content, not its name)")
    return kind, clean_name(raw_name, kind)


async def customer_attachment(desk: Desk, conversation_id: str, content: bytes, raw_name: str | None) -> Event:
    """A customer's file, in any state of the conversation: stored and published as their message
    (a resolved conversation goes back to the bot, as when they write). The bot does not answer it."""
    kind, name = check_file(content, raw_name)
    async with desk._lock(conversation_id):
        event, conv = await _store(desk, conversation_id, "customer", name, kind, content, {}, None)
        desk.metrics.message()
        await desk.publish(event)
        if conv.status == Owner.QUEUED.value:
            await desk.broker.publish(AGENTS_CHANNEL, {"type": "queue_changed"})
        if conv.status == Owner.RESOLVED.value and (reopened := await desk.store.reopen(conversation_id)) is not None:
            notice, _ = await desk.store.append_event(conversation_id, "handoff", "system",
                                                      say("handed_back", reopened.lang),
                                                      data={"status": "bot", "reason": "reopened"})
            await desk.publish(notice)
    return event


async def check_agent(desk: Desk, conversation_id: str, agent: User) -> None:
    """Refuse an agent's upload before its file is read: only the assigned agent may send one."""
    await desk._owned_case(conversation_id, agent)


async def agent_attachment(desk: Desk, conversation_id: str, agent: User, content: bytes, raw_name: str | None) -> Event:
    """The assigned agent's file (else `invalid_state` or `not_owner`, as for a reply)."""
    kind, name = check_file(content, raw_name)
    async with desk._lock(conversation_id):
        case = await desk._owned_case(conversation_id, agent)
        event, _ = await _store(desk, conversation_id, "agent", name, kind, content,
                                {"agent": {"name": agent.name, "id": agent.id}}, agent.id)
    desk.metrics.message()
    await desk.store.mark_first_reply(case.id)
    await desk.publish(event)
    return event
