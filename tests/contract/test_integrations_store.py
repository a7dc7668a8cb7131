"""The integrations store on SQLite and PostgreSQL: the webhook outbox (fed once, claimed by one
worker, in seq order per conversation, retried, endpoints disabled after failing) and API tokens."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from app.apitokens import create_token, user_for_api_token
from app.config import Settings
from app.storage.integrations import IntegrationStore
from app.storage.sites import Audit
from app.storage.sql import SqlStore
from app.webhook_worker import WebhookWorker
from app.webhooks import create_endpoint

WHO = Audit("test")


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _conversation(store: SqlStore, cid: str) -> None:
    await store.create_conversation(cid, "h" + cid, "en", None)


async def _fed(store: SqlStore, integrations: IntegrationStore, endpoint_id: int) -> list:
    return await integrations.list_deliveries(endpoint_id, limit=1000)


async def test_the_feeder_queues_each_event_once_per_endpoint_even_after_a_restart(store: SqlStore) -> None:
    integrations = IntegrationStore(store.engine)
    settings = Settings(webhook_poll_seconds=0.1)
    worker = WebhookWorker(settings, integrations)
    await worker.feed_once()  # the cursor starts at the end of the log: history is not sent
    all_events, _ = await create_endpoint(integrations, WHO, "https://example.com/all", ["*"])
    only_cases, _ = await create_endpoint(integrations, WHO, "https://example.com/cases", ["case.escalated"])
    await _conversation(store, "c_feed")
    await store.append_event("c_feed", "message", "customer", "hello")
    await store.append_event("c_feed", "message", "bot", "hi, how can I help?")
    await store.append_event("c_feed", "note", "agent", "internal", visibility="internal")
    await store.escalate("c_feed", "customer_request", {}, lambda position: ("queued", {"position": position}))
    await worker.feed_once()
    await worker.feed_once()
    restarted = WebhookWorker(settings, integrations)  # a new process: its memory of what it fed is empty
    await restarted.feed_once()
    fed = await _fed(store, integrations, all_events.id)
    kinds = sorted((d.event_type, d.seq) for d in fed)
    assert kinds == sorted([("conversation.started", 1), ("message.created", 1), ("message.created", 2),
                            ("note.created", 3), ("case.escalated", 4)])
    assert [(d.event_type, d.seq) for d in await _fed(store, integrations, only_cases.id)] == [("case.escalated", 4)]
    body = json.loads(next(d.payload for d in fed if d.event_type == "message.created" and d.seq == 1))
    assert body["type"] == "message.created" and body["data"]["event"]["text"] == "hello"
    assert body["data"]["conversation"]["id"] == "c_feed"
    await worker.client.aclose()
    await restarted.client.aclose()


async def test_a_delivery_is_claimed_by_one_worker_and_a_conversation_goes_in_seq_order(store: SqlStore) -> None:
    integrations = IntegrationStore(store.engine)
    endpoint, _ = await create_endpoint(integrations, WHO, "https://example.com/hook", ["*"])
    await _conversation(store, "c_order")
    now = _now()
    rows = [{"id": f"whd_{i:04x}", "endpoint_id": endpoint.id, "source": f"ev:{i}", "event_type": "message.created",
             "conversation_id": "c_order", "seq": i, "payload": "{}", "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now} for i in (1, 2, 3)]
    assert await integrations.enqueue(rows) == 3
    assert await integrations.enqueue(rows) == 0  # fed again: nothing new
    lease = timedelta(seconds=60)
    a, b = await asyncio.gather(integrations.claim_due(_now(), 10, lease), integrations.claim_due(_now(), 10, lease))
    claimed = [d.id for d, _ in a] + [d.id for d, _ in b]
    assert claimed == ["whd_0001"]  # one claimant, and only the conversation's first delivery
    delivery = (a or b)[0][0]
    status = await integrations.record_attempt(delivery, endpoint.id, _now(), 500, 12, "HTTP 500", False,
                                               _now() - timedelta(seconds=1), timedelta(days=3))
    assert status == "pending"
    again = await integrations.claim_due(_now(), 10, lease)
    assert [d.id for d, _ in again] == ["whd_0001"]  # retried first; seq 2 still waits
    assert again[0][0].attempts == 1
    await integrations.record_attempt(again[0][0], endpoint.id, _now(), 200, 8, None, True, None, timedelta(days=3))
    assert [d.id for d, _ in await integrations.claim_due(_now(), 10, lease)] == ["whd_0002"]
    found = await integrations.get_delivery("whd_0001")
    assert found is not None
    assert found[0].status == "delivered" and [a.status_code for a in found[1]] == [500, 200]
    assert (await integrations.get_endpoint(endpoint.id)).failing_since is None  # type: ignore[union-attr]


async def test_an_endpoint_failing_for_too_long_is_disabled_and_stops_being_claimed(store: SqlStore) -> None:
    integrations = IntegrationStore(store.engine)
    endpoint, _ = await create_endpoint(integrations, WHO, "https://example.com/down", ["*"])
    now = _now()
    await integrations.enqueue([{"id": "whd_dead", "endpoint_id": endpoint.id, "source": "art:1",
                                 "event_type": "article.published", "conversation_id": None, "seq": None,
                                 "payload": "{}", "status": "pending", "attempts": 0, "next_attempt_at": now,
                                 "created_at": now}])
    (delivery, _), = await integrations.claim_due(now, 5, timedelta(seconds=30))
    two_days_ago = now - timedelta(days=2)
    await integrations.record_attempt(delivery, endpoint.id, two_days_ago, None, 5, "ConnectError", False, now,
                                      timedelta(days=3))
    still = await integrations.get_endpoint(endpoint.id)
    assert still is not None and still.enabled and still.failing_since == two_days_ago  # failing, not for long enough
    (delivery, _), = await integrations.claim_due(_now(), 5, timedelta(seconds=30))
    await integrations.record_attempt(delivery, endpoint.id, _now(), None, 5, "ConnectError", False, _now(),
                                      timedelta(days=1))  # failing since two days, more than the limit
    disabled = await integrations.get_endpoint(endpoint.id)
    assert disabled is not None and not disabled.enabled and "failed" in (disabled.disabled_reason or "")
    assert await integrations.claim_due(_now() + timedelta(hours=1), 5, timedelta(seconds=30)) == []
    assert "webhook.disabled" in [e.action for e in await store.list_audit(target=f"webhook:{endpoint.id}")]


async def test_api_tokens_are_hashed_revocable_and_expire(store: SqlStore) -> None:
    integrations = IntegrationStore(store.engine)
    user = await store.create_user("int@example.com", "Int", "x" * 20, "agent")
    record, token = await create_token(integrations, WHO, user, "crm", ["agent", "conversations:read"])
    assert token.startswith("pk_") and record.prefix == token[:11]
    assert all(token not in str(v) for v in vars(record).values())  # the record never holds the token
    found = await user_for_api_token(integrations, token)
    assert found is not None and found[0].id == user.id and found[1] == ["agent", "conversations:read"]
    assert (await integrations.list_tokens())[0].last_used_at is not None
    assert await user_for_api_token(integrations, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    await integrations.revoke_token(record.id, WHO)
    assert await user_for_api_token(integrations, token) is None
    _, short = await create_token(integrations, WHO, user, "short", ["agent"], expires_days=0.0000001)
    await asyncio.sleep(0.05)
    assert await user_for_api_token(integrations, short) is None
    await store.update_user(user.id, active=False)
    _, other = await create_token(integrations, WHO, (await store.get_user(user.id)).__class__(  # type: ignore[union-attr]
        user.id, user.email, user.name, user.role, True, user.capacity, user.created_at), "x", ["agent"])
    assert await user_for_api_token(integrations, other) is None  # a deactivated user's tokens stop working


async def test_erasing_a_conversation_removes_its_pending_deliveries_and_their_attempts(store: SqlStore) -> None:
    """Privacy: a webhook body holds the customer's words, so it goes with the conversation."""
    integrations = IntegrationStore(store.engine)
    endpoint, _ = await create_endpoint(integrations, WHO, "https://example.com/erase", ["*"])
    await store.create_conversation("c_erase", "herase", "en", None, contact={"email": "erase@example.com"})
    now = _now()
    await integrations.enqueue([{"id": "whd_e1", "endpoint_id": endpoint.id, "source": "ev:e1",
                                 "event_type": "message.created", "conversation_id": "c_erase", "seq": 1,
                                 "payload": '{"text": "my secret"}', "status": "pending", "attempts": 0,
                                 "next_attempt_at": now, "created_at": now}])
    (delivery, _), = await integrations.claim_due(now, 5, timedelta(seconds=30))
    await integrations.record_attempt(delivery, endpoint.id, now, 503, 3, "HTTP 503", False, now, timedelta(days=3))
    ids, counts = await store.erase_contact("erase@example.com")
    assert ids == ["c_erase"]
    assert await integrations.get_delivery("whd_e1") is None
    assert await integrations.claim_due(_now(), 5, timedelta(seconds=30)) == []
