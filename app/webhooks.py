"""Outgoing webhooks: signed, retried, logged, and never on the chat path.

How an event reaches a receiver:

1. The chat path stores its events as it always has (the events table is the transcript) and does
   nothing more. A feeder in the background reads the event log (and the article versions) after its
   cursor and writes one outbox row per subscribed endpoint (`webhook_deliveries`); a unique
   (endpoint, source) key makes feeding idempotent, so two processes, a restart or a re-read of the
   last seconds queue each event once. The cursor only passes events older than SETTLE_SECONDS, so an
   event committed late (a lower id seen after a higher one) is still read.
2. A sender claims due rows (a conditional UPDATE: one process sends a given row), at most
   PARLEY_WEBHOOK_CONCURRENCY at a time, and POSTs the stored body with httpx (timeouts, no redirects,
   no proxies from the environment) to the address it resolved and checked (no loopback or private
   addresses unless PARLEY_WEBHOOK_ALLOW_PRIVATE), so a DNS answer cannot change between the check and
   the connection.
3. A 2xx settles the row. Anything else is logged as an attempt and retried with exponential backoff
   and the same delivery id (`Parley-Delivery`), so a receiver that keeps the ids it has handled sees
   each event exactly once. One conversation's deliveries to one endpoint go out in seq order (the
   next waits for the one before). After PARLEY_WEBHOOK_DISABLE_AFTER_DAYS of failures the endpoint is
   disabled and the delivery given up; admins see every attempt and can replay any delivery.

Signature (as Stripe's): `Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
with a second `v1=` during a secret rotation's grace period.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.config import Settings
from app.storage.integrations import Delivery, Endpoint, IntegrationStore
from app.storage.sites import Audit

log = logging.getLogger("parley.webhooks")

EVENT_TYPES = ("conversation.started", "message.created", "note.created", "case.escalated", "case.assigned",
               "case.transferred", "case.resolved", "rating.given", "article.published")
SIGNATURE_HEADER = "Parley-Signature"
SETTLE_SECONDS = 5.0  # events newer than this are read again on the next pass (a late commit is not missed)
BATCH = 500
USER_AGENT = "Parley-Webhooks/1"


class WebhookError(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secrets_: list[str], timestamp: int, body: str) -> str:
    """The Parley-Signature header for `body` sent at `timestamp`, one v1 per secret."""
    signed = f"{timestamp}.{body}".encode()
    return ",".join([f"t={timestamp}", *(f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}"
                                          for s in secrets_)])


def verify(secret: str, header: str, body: str, tolerance_seconds: float = 300, now: float | None = None) -> bool:
    """What a receiver does (and the tests): a v1 signature matches and the timestamp is recent."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs((now or time.time()) - int(stamps[0])) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{stamps[0]}.{body}".encode(), hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


# ----------------------------------------------------------------------------- URLs and SSRF
def check_url(url: str) -> str:
    """A webhook URL's form: http(s), a host, no credentials or fragment, at most 2000 characters."""
    if len(url) > 2000 or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookError("the URL must be at most 2000 characters without spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("the URL must start with https:// (or http://) and name a host")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("the URL must not carry credentials; the signature authenticates the desk")
    if parts.fragment:
        raise WebhookError("the URL must not have a #fragment")
    if port == 0:
        raise WebhookError("not a valid port")
    return url


def address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    return allow_private or ip.is_global


async def resolve(url: str, allow_private: bool) -> str:
    """The address to connect to for `url`: every address its host resolves to must be allowed
    (a name that resolves to a private address as well as a public one is refused)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookError(f"cannot resolve {host}")
    refused = [a for a in addresses if not address_allowed(a, allow_private)]
    if refused:
        raise WebhookError(f"{host} resolves to a non-public address ({refused[0]}); refused "
                           "(PARLEY_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    return addresses[0]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL rewritten to the checked address, with the Host header and TLS name of the original."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), headers, extensions


# ----------------------------------------------------------------------------- endpoints (admin actions)
def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES and e != "*"]
    if unknown:
        raise WebhookError(f"unknown event {unknown[0][:40]!r}; expected some of {', '.join(EVENT_TYPES)} or *")
    if not events:
        raise WebhookError("subscribe to at least one event (or *)")
    return ["*"] if "*" in events else sorted(set(events))


def check_destination(url: str, allow_private: bool) -> str:
    """A URL whose host is an address (or localhost) is checked at once; a name is checked when it is
    resolved, at every delivery (its DNS answer may change)."""
    host = (urlsplit(check_url(url)).hostname or "").lower()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if not allow_private and (host == "localhost" or host.endswith(".localhost")
                              or (literal is not None and not address_allowed(str(literal), False))):
        raise WebhookError(f"{host} is not a public address; refused (PARLEY_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    return url


async def create_endpoint(store: IntegrationStore, who: Audit, url: str, events: list[str],
                          description: str = "", allow_private: bool = True) -> tuple[Endpoint, str]:
    secret = new_secret()
    endpoint = await store.create_endpoint(check_destination(url, allow_private), description, check_events(events),
                                           secret, who)
    return endpoint, secret


async def update_endpoint(store: IntegrationStore, who: Audit, endpoint_id: int, changes: dict[str, Any],
                          allow_private: bool = True) -> Endpoint:
    fields: dict[str, Any] = {}
    if changes.get("url") is not None:
        fields["url"] = check_destination(changes["url"], allow_private)
    if changes.get("events") is not None:
        fields["events"] = check_events(changes["events"])
    if changes.get("description") is not None:
        fields["description"] = changes["description"]
    if changes.get("enabled") is not None:
        fields["enabled"] = bool(changes["enabled"])
        if fields["enabled"]:  # enabled again: a fresh start, not disabled at the next failure
            fields.update(disabled_reason=None, failing_since=None)
    endpoint = await store.update_endpoint(endpoint_id, fields, who, "webhook.updated",
                                           {k: v for k, v in fields.items() if k in ("url", "events", "enabled")})
    if endpoint is None:
        raise LookupError(endpoint_id)
    return endpoint


async def rotate_secret(store: IntegrationStore, who: Audit, endpoint_id: int, grace_hours: float) -> tuple[Endpoint, str]:
    """A new secret (shown once); deliveries carry a signature with the old one too for `grace_hours`."""
    current = await store.get_endpoint(endpoint_id)
    if current is None:
        raise LookupError(endpoint_id)
    secret = new_secret()
    fields: dict[str, Any] = {"secret": secret, "previous_secret": current.secret if grace_hours else None,
                              "previous_secret_expires_at": datetime.now(timezone.utc) + timedelta(hours=grace_hours)
                              if grace_hours else None}
    endpoint = await store.update_endpoint(endpoint_id, fields, who, "webhook.secret_rotated", {"grace_hours": grace_hours})
    assert endpoint is not None
    return endpoint, secret


# ----------------------------------------------------------------------------- what an event becomes
def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return str(value)


def event_types(row: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, source key, data) for one stored event row: what integrations hear about it."""
    data = dict(row.data or {})
    conversation = {"id": row.conversation_id, "lang": row.lang, "site_key": row.site_key}
    event: dict[str, Any] = {"seq": row.seq, "kind": row.kind, "sender": row.sender, "visibility": row.visibility,
                             "text": row.text, "created_at": _iso(row.created_at), "client_msg_id": row.client_msg_id}
    if data.get("agent"):
        event["agent"] = data["agent"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    if row.seq == 1:
        out.append(("conversation.started", f"ev:{row.id}:started", {"conversation": conversation}))
    kind = None
    if row.kind == "message" and row.visibility == "public":
        kind = "message.created"
        for key in ("action", "confidence", "article"):
            if data.get(key) is not None:
                event[key] = data[key]
    elif row.kind == "note":
        kind = "note.created"
    elif row.kind == "rating":
        kind = "rating.given"
        event.update(score=data.get("score"), case_id=data.get("case_id"))
    elif row.kind == "handoff":
        status = data.get("status")
        case = {"id": data.get("case_id"), "status": status, "reason": data.get("reason"), "agent": data.get("agent")}
        if status == "queued" and not data.get("released"):
            kind = "case.escalated"
        elif status == "assigned":
            kind = "case.transferred" if data.get("transferred_from") else "case.assigned"
            if data.get("transferred_from"):
                case["transferred_from"] = data["transferred_from"]
        elif status == "resolved":
            kind = "case.resolved"
        if kind:
            event["case"] = case
    if kind:
        out.append((kind, f"ev:{row.id}", {"conversation": conversation, "event": event}))
    return out


def _subscribed(endpoint: Endpoint, kind: str) -> bool:
    return "*" in endpoint.events or kind in endpoint.events


def outbox_row(endpoint: Endpoint, kind: str, source: str, data: dict[str, Any], created_at: Any,
               conversation_id: str | None, seq: int | None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    body = json.dumps({"id": "evt_" + source.replace(":", "_"), "type": kind, "created_at": _iso(created_at),
                       "data": data}, ensure_ascii=False, separators=(",", ":"), default=str)
    return {"id": "whd_" + secrets.token_hex(12), "endpoint_id": endpoint.id, "source": source, "event_type": kind,
            "conversation_id": conversation_id, "seq": seq, "payload": body, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now}


def _after(endpoint: Endpoint, created_at: Any) -> bool:
    """An endpoint hears of events from its creation on, not the history before it."""
    if not isinstance(created_at, datetime):
        return True
    stamp = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    return stamp >= endpoint.created_at


# ----------------------------------------------------------------------------- the worker
class WebhookWorker:
    """Feeds the outbox and delivers it, in the background of a server process."""

    def __init__(self, settings: Settings, store: IntegrationStore, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.store = store
        timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds))
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                                  limits=httpx.Limits(max_connections=settings.webhook_concurrency * 2))
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._seen: dict[str, set[int]] = {"events": set(), "articles": set()}
        self._stopping = False
        self._wake = asyncio.Event()  # a send finished or new rows were queued: look for due rows now

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(self.feed_once, "feed")),
                       asyncio.create_task(self._deliver_loop())]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._inflight:  # let sends in flight finish (each is bounded by the timeout)
            await asyncio.wait(self._inflight, timeout=self.settings.webhook_timeout_seconds + 1)
        await self.client.aclose()

    async def _loop(self, step: Any, name: str) -> None:
        while True:
            try:
                busy = await step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database outage: log, wait, carry on
                log.exception("webhook %s step failed", name)
                busy = False
            if not busy:
                await asyncio.sleep(self.settings.webhook_poll_seconds)

    async def _deliver_loop(self) -> None:
        """Claim as long as there are free slots and due rows; otherwise wait for a send to finish,
        new rows, or the poll interval (a retry falling due)."""
        while True:
            self._wake.clear()
            try:
                claimed = await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook deliver step failed")
                claimed = 0
            if claimed:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------- feeding
    async def feed_once(self) -> bool:
        """One pass over each log; True when a full batch was read (there may be more at once)."""
        endpoints = await self.store.list_endpoints(enabled_only=True)
        busy = False
        for name, read, latest in (("events", self.store.events_after_id, self.store.max_event_id),
                                   ("articles", self.store.article_versions_after_id, self.store.max_article_version_id)):
            cursor = await self.store.cursor(name)
            if cursor is None or not endpoints:  # nothing to feed: start from now, not from the history
                if cursor is None or cursor < await latest():
                    await self.store.set_cursor(name, await latest())
                self._seen[name].clear()
                continue
            rows = await read(cursor, BATCH)
            seen = self._seen[name]
            queued: list[dict[str, Any]] = []
            for row in rows:
                if row.id in seen:
                    continue
                for kind, source, data, conversation_id, seq in self._items(name, row):
                    queued += [outbox_row(e, kind, source, data, row.created_at, conversation_id, seq)
                               for e in endpoints if _subscribed(e, kind) and _after(e, row.created_at)]
            if await self.store.enqueue(queued):
                self._wake.set()
            seen.update(row.id for row in rows)
            settled = cursor
            horizon = datetime.now(timezone.utc) - timedelta(seconds=SETTLE_SECONDS)
            for row in rows:
                stamp = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
                if stamp >= horizon:
                    break
                settled = row.id
            if settled > cursor:
                await self.store.set_cursor(name, settled)
                self._seen[name] = {i for i in seen if i > settled}
            busy = busy or (len(rows) == BATCH and settled > cursor)
        return busy

    @staticmethod
    def _items(name: str, row: Any) -> list[tuple[str, str, dict[str, Any], str | None, int | None]]:
        if name == "events":
            return [(kind, source, data, row.conversation_id, row.seq) for kind, source, data in event_types(row)]
        if row.status == "published" and row.previous_status != "published":
            return [("article.published", f"art:{row.id}", {"article": {
                "id": row.article_id, "title": row.title, "category": row.category, "version": row.version,
                "url": f"/kb/{row.article_id}", "author_id": row.author_id}}, None, None)]
        return []

    # ------------------------------------------------------------- delivering
    async def deliver_once(self) -> int:
        """Claim due rows for the free slots and start sending them; how many were claimed."""
        self._inflight = {t for t in self._inflight if not t.done()}
        free = self.settings.webhook_concurrency - len(self._inflight)
        if free <= 0 or self._stopping:
            return 0
        now = datetime.now(timezone.utc)
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds * 2 + 30)
        claimed = await self.store.claim_due(now, free, lease)
        for delivery, endpoint in claimed:
            task = asyncio.create_task(self._send(delivery, endpoint))
            task.add_done_callback(lambda _: self._wake.set())
            self._inflight.add(task)
        return len(claimed)

    def backoff(self, attempts: int) -> float:
        base = self.settings.webhook_retry_base_seconds * (2 ** min(attempts - 1, 30))
        return min(self.settings.webhook_retry_max_seconds, base) * random.uniform(0.8, 1.2)

    async def _send(self, delivery: Delivery, endpoint: Endpoint) -> None:
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            address = await resolve(endpoint.url, self.settings.webhook_allow_private)
            url, headers, extensions = pinned(endpoint.url, address)
            stamp = int(time.time())
            headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT,
                            "Parley-Delivery": delivery.id, "Parley-Event": delivery.event_type,
                            SIGNATURE_HEADER: sign(endpoint.secrets(started), stamp, delivery.payload)})
            request = self.client.build_request("POST", url, content=delivery.payload.encode(), headers=headers,
                                                extensions=extensions)
            response = await self.client.send(request, stream=True)
            await response.aclose()  # the body is not read: a receiver cannot make us download anything
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}" + (" (redirects are not followed)" if 300 <= status_code < 400 else "")
        except WebhookError as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"timed out after {self.settings.webhook_timeout_seconds:g} s"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        except asyncio.CancelledError:
            await self.store.release(delivery.id)
            raise
        latency = int((time.perf_counter() - clock) * 1000)
        ok = error is None
        give_up_at = delivery.created_at + timedelta(days=self.settings.webhook_disable_after_days)
        retry_at = None if ok else started + timedelta(seconds=self.backoff(delivery.attempts + 1))
        if retry_at is not None and retry_at > give_up_at:
            retry_at = None
        try:
            status = await self.store.record_attempt(
                delivery, endpoint.id, started, status_code, latency, error, ok, retry_at,
                timedelta(days=self.settings.webhook_disable_after_days))
        except Exception:
            log.exception("could not record webhook attempt %s", delivery.id)
            return
        if not ok:
            log.info("webhook delivery failed", extra={"delivery_id": delivery.id, "endpoint_id": endpoint.id,
                                                       "error": error, "status": status})
