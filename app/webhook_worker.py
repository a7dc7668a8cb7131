"""The webhook worker: feeds the outbox from the event log and delivers it with retries, in the
background of a server process (app/webhooks.py describes the whole path)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from app.config import Settings
from app.storage.integrations import Delivery, Endpoint, IntegrationStore
from app.tasks import cancel
from app.webhook_outbound import SIGNATURE_HEADER, USER_AGENT, WebhookError, pinned, resolve, sign
from app.webhook_payloads import event_types, outbox_row

log = logging.getLogger("parley.webhooks")

SETTLE_SECONDS = 5.0  # events newer than this are read again on the next pass (a late commit is not missed)
BATCH = 500


def _subscribed(endpoint: Endpoint, kind: str) -> bool:
    return "*" in endpoint.events or kind in endpoint.events


def _after(endpoint: Endpoint, created_at: Any) -> bool:
    """An endpoint hears of events from its creation on, not the history before it."""
    if not isinstance(created_at, datetime):
        return True
    stamp = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    return stamp >= endpoint.created_at


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
        await cancel(*self._tasks)
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
