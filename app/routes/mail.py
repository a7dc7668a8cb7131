"""The email channel's HTTP side: the inbound webhook, and the pages the links in our emails open.

Links in emails are signed (app/email_addresses.py, Signer). Following one never changes anything by
itself: a GET shows a page with a button and the POST acts, so a mail scanner that prefetches links
cannot confirm an address or answer a follow-up for the customer.
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.deps import DeskDep
from app.email_channel import MailChannel
from app.email_parsing import recipients_from_headers
from app.followup import FollowupError, answer as answer_followup
from app.storage.tables import INT_MAX
from app.validation import Line

log = logging.getLogger("parley.mail")


@asynccontextmanager
async def mail_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Started after the desk (FastAPI runs an included router's lifespan inside the app's) and
    stopped before it: the mail worker of this process, and the SMTP receiver if PARLEY_MAIL_RECEIVER."""
    services = app.state.services
    sockets = app.state.sockets
    channel = await MailChannel(services.settings, services.desk, lambda cid: sockets.count(cid) > 0).open()
    app.state.mail = channel
    channel.start()
    if services.settings.mail_receiver:
        await channel.serve_smtp(services.settings.mail_receiver_host, services.settings.mail_receiver_port)
    try:
        yield
    finally:
        await channel.stop()


router = APIRouter(tags=["mail"], lifespan=mail_lifespan)
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
SIGNATURE = Query(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")
SMTP_TO_HTTP = {552: 413, 554: 422, 550: 422, 450: 429}


def _channel(request: Request) -> MailChannel:
    channel = getattr(request.app.state, "mail", None)
    if channel is None or channel.signer is None:
        raise HTTPException(503, "the email channel is not running")
    return channel


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
                        f"content='width=device-width'><title>{html.escape(title)}</title><body>"
                        f"<h1>{html.escape(title)}</h1>{body}</body></html>", status_code=status, headers=PAGE_HEADERS)


@router.post("/api/mail/inbound", status_code=202, responses={401: {}, 404: {}, 413: {}, 422: {}, 429: {}, 503: {}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}})
async def inbound_mail(request: Request) -> JSONResponse:
    """An email from a mail provider's inbound webhook: the raw RFC 822 message as the body,
    the shared secret in `X-Parley-Mail-Secret`, the envelope recipient in `X-Parley-Recipient`
    (else the message's Delivered-To, To and Cc). Answers 202 with the conversation, or the
    SMTP receiver's refusal as 413 (too big) / 422 (malformed, unknown recipient, no text) / 429
    (too many new conversations from one sender, or in all, in an hour)."""
    channel = _channel(request)
    secret = channel.settings.mail_inbound_secret
    if not secret:
        raise HTTPException(404, "the inbound webhook is off (PARLEY_MAIL_INBOUND_SECRET is not set)")
    given = request.headers.get("x-parley-mail-secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise HTTPException(401, "wrong or missing X-Parley-Mail-Secret")
    raw = await request.body()  # bounded by PARLEY_MAIL_MAX_BYTES (app/bodylimit.py)
    rcpt = request.headers.get("x-parley-recipient")
    recipients = [rcpt[:254]] if rcpt else recipients_from_headers(raw)
    result = await channel.receive(raw, recipients)
    if result.code != 250:
        raise HTTPException(SMTP_TO_HTTP.get(result.code, 422), result.reason)
    return JSONResponse({"status": result.reason, "conversation_id": result.conversation_id}, status_code=202)


@router.get("/api/mail/view", response_class=HTMLResponse, responses={403: {}, 503: {}})
async def view_conversation(request: Request, desk: DeskDep, c: Line = Query(min_length=1, max_length=40),
                            s: str = SIGNATURE) -> HTMLResponse:
    """The conversation as its customer sees it (public messages), from the link in a reply email."""
    channel = _channel(request)
    if not channel.signer or not channel.signer.check(s, "view", c):
        raise HTTPException(403, "this link is not valid")
    events = await desk.transcript(c)
    items = "".join(
        f"<p><strong>{html.escape(_who(e, channel))}</strong> <small>{e.created_at:%Y-%m-%d %H:%M}</small><br>"
        f"{html.escape(e.text).replace(chr(10), '<br>')}</p>" for e in events if e.kind in ("message", "followup"))
    return _page("Your conversation", items + "<p>Reply to our last email to write to us.</p>")


def _who(event: Any, channel: MailChannel) -> str:
    if event.sender == "agent":
        return str((event.data.get("agent") or {}).get("name") or "Agent")
    return "You" if event.sender == "customer" else "Support"


@router.get("/api/mail/confirm", response_class=HTMLResponse, responses={403: {}, 503: {}})
async def confirm_page(request: Request, c: Line = Query(min_length=1, max_length=40),
                       e: Line = Query(min_length=3, max_length=254), x: Line = Query(min_length=1, max_length=12),
                       s: str = SIGNATURE) -> HTMLResponse:
    channel = _channel(request)
    if channel.signer is None or not channel.signer.check(s, "confirm", c, e, x):
        raise HTTPException(403, "this link is not valid or has expired")
    hidden = "".join(f'<input type=hidden name={k} value="{html.escape(v)}">' for k, v in
                     (("c", c), ("e", e), ("x", x), ("s", s)))
    return _page("Confirm your email", f"<p>Receive replies to your support conversation at "
                 f"<strong>{html.escape(e)}</strong>?</p><form method=post>{hidden}<button>Confirm</button></form>")


async def _form(request: Request, *names: str) -> dict[str, str]:
    """The page's own small form (application/x-www-form-urlencoded; the body limit bounds it)."""
    try:
        fields = parse_qs((await request.body()).decode("utf-8"), strict_parsing=False, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(422, "a form with " + ", ".join(names)) from None
    out = {}
    for name in names:
        values = fields.get(name) or [""]
        if len(values) != 1 or not values[0] or len(values[0]) > 254 or any(ord(ch) < 32 for ch in values[0]):
            raise HTTPException(422, f"{name}: missing or invalid")
        out[name] = values[0]
    return out


@router.post("/api/mail/confirm", response_class=HTMLResponse, responses={403: {}, 422: {}, 503: {}})
async def confirm_address(request: Request) -> HTMLResponse:
    channel = _channel(request)
    form = await _form(request, "c", "e", "x", "s")
    if not await channel.confirm(form["c"], form["e"].lower(), form["x"], form["s"]):
        raise HTTPException(403, "this link is not valid or has expired")
    return _page("Email confirmed", "<p>Thanks. Replies to your conversation will reach you by email.</p>")


@router.get("/api/mail/followup", response_class=HTMLResponse, responses={403: {}, 503: {}})
async def followup_page(request: Request, f: int = Query(ge=1, le=INT_MAX), a: str = Query(pattern="^(yes|no)$"),
                        s: str = SIGNATURE) -> HTMLResponse:
    channel = _channel(request)
    if channel.signer is None or not channel.signer.check(s, "followup", str(f), a):
        raise HTTPException(403, "this link is not valid")
    label = "Yes, it is solved" if a == "yes" else "No, I still need help"
    return _page("Did that solve it?", f'<form method=post><input type=hidden name=f value="{f}">'
                 f'<input type=hidden name=a value="{a}"><input type=hidden name=s value="{html.escape(s)}">'
                 f"<button>{label}</button></form>")


@router.post("/api/mail/followup", response_class=HTMLResponse, responses={403: {}, 404: {}, 409: {}, 422: {},
                                                                          503: {}})
async def followup_answer(request: Request, desk: DeskDep) -> HTMLResponse:
    channel = _channel(request)
    form = await _form(request, "f", "a", "s")
    a = form["a"]
    if not form["f"].isdigit() or len(form["f"]) > 10 or int(form["f"]) > INT_MAX or a not in ("yes", "no"):
        raise HTTPException(422, "f must be a follow-up id and a yes or no")
    if channel.signer is None or not channel.signer.check(form["s"], "followup", form["f"], a):
        raise HTTPException(403, "this link is not valid")
    try:
        result = await answer_followup(desk, int(form["f"]), a)
    except FollowupError as exc:
        raise HTTPException(404 if exc.code == "not_found" else 409, exc.detail) from None
    if not result["recorded"]:
        return _page("Already answered", "<p>We already have your answer. Thank you.</p>")
    text = ("Thanks: glad it is solved." if a == "yes"
            else "Sorry it is not solved yet: your case is open again and an agent will reply.")
    return _page("Thank you", f"<p>{html.escape(text)}</p>")
