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

The parts: app/webhook_outbound.py (destination check, pinning, signature), app/webhook_payloads.py
(what an event becomes), app/webhook_worker.py (feeding and delivering); this module holds the admin
actions on endpoints.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from app.storage.integrations import Endpoint, IntegrationStore
from app.storage.sites import Audit
from app.webhook_outbound import WebhookError, check_destination, new_secret
from app.webhook_payloads import EVENT_TYPES


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES and e != "*"]
    if unknown:
        raise WebhookError(f"unknown event {unknown[0][:40]!r}; expected some of {', '.join(EVENT_TYPES)} or *")
    if not events:
        raise WebhookError("subscribe to at least one event (or *)")
    return ["*"] if "*" in events else sorted(set(events))


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
