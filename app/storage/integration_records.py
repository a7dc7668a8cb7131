"""The integrations' records: API tokens, webhook endpoints, deliveries and their attempts, and
the functions that make them from rows.

Shared by the integration store (app/storage/integrations.py) and its webhook outbox
(app/storage/webhook_outbox.py); callers import them from app.storage.integrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.storage.mappers import as_utc


@dataclass(frozen=True)
class ApiToken:
    id: int
    prefix: str
    name: str
    user_id: int
    scopes: list[str]
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    description: str
    events: list[str]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime

    def secrets(self, now: datetime) -> list[str]:
        """The secrets deliveries are signed with now: the current one, and the previous one in its grace period."""
        out = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            out.append(self.previous_secret)
        return out


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: int
    source: str
    event_type: str
    conversation_id: str | None
    seq: int | None
    payload: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Attempt:
    id: int
    delivery_id: str
    started_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


def _token(row: Any) -> ApiToken:
    return ApiToken(row.id, row.prefix, row.name, row.user_id, list(row.scopes), row.created_by,
                    as_utc(row.created_at), as_utc(row.expires_at), as_utc(row.last_used_at), as_utc(row.revoked_at))  # type: ignore[arg-type]


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row.id, row.url, row.description, list(row.events), row.secret, row.previous_secret,
                    as_utc(row.previous_secret_expires_at), bool(row.enabled), row.disabled_reason,
                    as_utc(row.failing_since), as_utc(row.created_at), as_utc(row.updated_at))  # type: ignore[arg-type]


def _delivery(row: Any) -> Delivery:
    return Delivery(row.id, row.endpoint_id, row.source, row.event_type, row.conversation_id, row.seq, row.payload,
                    row.status, row.attempts, as_utc(row.next_attempt_at), as_utc(row.created_at),  # type: ignore[arg-type]
                    as_utc(row.delivered_at), row.last_error)


def _attempt(row: Any) -> Attempt:
    return Attempt(row.id, row.delivery_id, as_utc(row.started_at), row.status_code, row.latency_ms, row.error)  # type: ignore[arg-type]
