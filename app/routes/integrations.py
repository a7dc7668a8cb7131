"""Integrations for admins: webhook endpoints and their deliveries (/api/admin/webhooks), API tokens (/api/admin/tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from app import apitokens, webhooks
from app.deps import CurrentAdmin, SettingsDep, StoreDep
from app.schemas import RowId
from app.storage.integrations import ApiToken, Attempt, Delivery, Endpoint, IntegrationStore
from app.storage.records import User
from app.storage.sites import Audit
from app.storage.sql import SqlStore
from app.validation import Line

router = APIRouter(prefix="/api/admin", tags=["integrations"])
EventName = Literal["conversation.started", "message.created", "note.created", "case.escalated", "case.assigned",
                    "case.transferred", "case.resolved", "rating.given", "article.published", "*"]
ScopeName = Literal["conversations:read", "conversations:write", "agent", "editor", "admin"]
DeliveryId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^whd_[0-9a-f]{1,36}$")]


def _integrations(store: SqlStore) -> IntegrationStore:
    return IntegrationStore(store.engine)


def _who(admin: User) -> Audit:
    return Audit(admin.email, admin.id)


# ----------------------------------------------------------------------------- webhooks
class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000, description="https://... that receives a POST per event")
    events: list[EventName] = Field(min_length=1, max_length=20, description="Event types, or [\"*\"] for all")
    description: Line = Field(default="", max_length=200)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    events: list[EventName] | None = Field(default=None, min_length=1, max_length=20)
    description: Line | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class WebhookRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_hours: float = Field(default=24, ge=0, le=720, description="Deliveries are signed with the old secret "
                               "too for this long (a second v1= in Parley-Signature).")


class WebhookPublic(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_valid_until: datetime | None
    created_at: datetime
    updated_at: datetime
    deliveries: dict[str, int] = Field(description="Deliveries by status: pending, delivered, failed")

    @classmethod
    def of(cls, e: Endpoint, counts: dict[str, int]) -> "WebhookPublic":
        now = datetime.now(e.created_at.tzinfo)
        grace = e.previous_secret_expires_at if e.previous_secret and e.previous_secret_expires_at and \
            e.previous_secret_expires_at > now else None
        return cls(id=e.id, url=e.url, description=e.description, events=e.events, enabled=e.enabled,
                   disabled_reason=e.disabled_reason, failing_since=e.failing_since, previous_secret_valid_until=grace,
                   created_at=e.created_at, updated_at=e.updated_at, deliveries=counts)


class WebhookWithSecret(WebhookPublic):
    secret: str = Field(description="Shown this once: verify Parley-Signature with it (HMAC-SHA256 of \"t.body\").")


class AttemptPublic(BaseModel):
    started_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, a: Attempt) -> "AttemptPublic":
        return cls(started_at=a.started_at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)


class DeliveryPublic(BaseModel):
    id: str
    endpoint_id: int
    event_type: str
    conversation_id: str | None
    seq: int | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    payload: dict[str, Any] | None = None
    attempt_log: list[AttemptPublic] | None = None

    @classmethod
    def of(cls, d: Delivery, attempts: list[Attempt] | None = None) -> "DeliveryPublic":
        import json

        return cls(id=d.id, endpoint_id=d.endpoint_id, event_type=d.event_type, conversation_id=d.conversation_id,
                   seq=d.seq, status=d.status, attempts=d.attempts,
                   next_attempt_at=d.next_attempt_at if d.status == "pending" else None, created_at=d.created_at,
                   delivered_at=d.delivered_at, last_error=d.last_error,
                   payload=json.loads(d.payload) if attempts is not None else None,
                   attempt_log=[AttemptPublic.of(a) for a in attempts] if attempts is not None else None)


def _refused(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc))


async def _public(store: IntegrationStore, endpoint: Endpoint) -> WebhookPublic:
    return WebhookPublic.of(endpoint, await store.delivery_counts(endpoint.id))


@router.get("/webhooks", response_model=list[WebhookPublic])
async def list_webhooks(admin: CurrentAdmin, store: StoreDep) -> list[WebhookPublic]:
    integrations = _integrations(store)
    return [await _public(integrations, e) for e in await integrations.list_endpoints()]


@router.post("/webhooks", response_model=WebhookWithSecret, status_code=201, responses={422: {}})
async def create_webhook(body: WebhookCreate, admin: CurrentAdmin, store: StoreDep,
                         settings: SettingsDep) -> WebhookWithSecret:
    """Subscribe a URL to events. The signing secret is in this answer only."""
    integrations = _integrations(store)
    try:
        endpoint, secret = await webhooks.create_endpoint(integrations, _who(admin), body.url, list(body.events),
                                                          body.description, settings.webhook_allow_private)
    except webhooks.WebhookError as exc:
        raise _refused(exc) from None
    return WebhookWithSecret(**(await _public(integrations, endpoint)).model_dump(), secret=secret)


@router.get("/webhooks/{endpoint_id}", response_model=WebhookPublic, responses={404: {}})
async def get_webhook(endpoint_id: RowId, admin: CurrentAdmin, store: StoreDep) -> WebhookPublic:
    integrations = _integrations(store)
    endpoint = await integrations.get_endpoint(endpoint_id)
    if endpoint is None:
        raise HTTPException(404, f"no webhook {endpoint_id}")
    return await _public(integrations, endpoint)


@router.patch("/webhooks/{endpoint_id}", response_model=WebhookPublic, responses={404: {}, 422: {}})
async def update_webhook(endpoint_id: RowId, body: WebhookUpdate, admin: CurrentAdmin, store: StoreDep,
                         settings: SettingsDep) -> WebhookPublic:
    """Change the URL, events or description; `enabled: true` turns a disabled endpoint on again."""
    integrations = _integrations(store)
    try:
        endpoint = await webhooks.update_endpoint(integrations, _who(admin), endpoint_id, body.model_dump(),
                                                  settings.webhook_allow_private)
    except webhooks.WebhookError as exc:
        raise _refused(exc) from None
    except LookupError:
        raise HTTPException(404, f"no webhook {endpoint_id}") from None
    return await _public(integrations, endpoint)


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses={404: {}})
async def delete_webhook(endpoint_id: RowId, admin: CurrentAdmin, store: StoreDep) -> None:
    """Remove the endpoint with its pending deliveries and their log."""
    if not await _integrations(store).delete_endpoint(endpoint_id, _who(admin)):
        raise HTTPException(404, f"no webhook {endpoint_id}")


@router.post("/webhooks/{endpoint_id}/secret", response_model=WebhookWithSecret, responses={404: {}})
async def rotate_webhook_secret(endpoint_id: RowId, body: WebhookRotate, admin: CurrentAdmin,
                                store: StoreDep) -> WebhookWithSecret:
    """A new signing secret, shown once; the old one also signs for `grace_hours`."""
    integrations = _integrations(store)
    try:
        endpoint, secret = await webhooks.rotate_secret(integrations, _who(admin), endpoint_id, body.grace_hours)
    except LookupError:
        raise HTTPException(404, f"no webhook {endpoint_id}") from None
    return WebhookWithSecret(**(await _public(integrations, endpoint)).model_dump(), secret=secret)


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=list[DeliveryPublic], responses={404: {}})
async def list_deliveries(endpoint_id: RowId, admin: CurrentAdmin, store: StoreDep,
                          status_: Literal["pending", "delivered", "failed"] | None = Query(default=None, alias="status"),
                          limit: int = Query(default=100, ge=1, le=1000)) -> list[DeliveryPublic]:
    """The endpoint's deliveries, newest first."""
    integrations = _integrations(store)
    if await integrations.get_endpoint(endpoint_id) is None:
        raise HTTPException(404, f"no webhook {endpoint_id}")
    return [DeliveryPublic.of(d) for d in await integrations.list_deliveries(endpoint_id, status_, limit)]


@router.get("/webhooks/deliveries/{delivery_id}", response_model=DeliveryPublic, responses={404: {}})
async def get_delivery(delivery_id: DeliveryId, admin: CurrentAdmin, store: StoreDep) -> DeliveryPublic:
    """One delivery with its body and every attempt (status, latency, error)."""
    found = await _integrations(store).get_delivery(delivery_id)
    if found is None:
        raise HTTPException(404, f"no delivery {delivery_id}")
    return DeliveryPublic.of(*found)


@router.post("/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryPublic, responses={404: {}})
async def replay_delivery(delivery_id: DeliveryId, admin: CurrentAdmin, store: StoreDep) -> DeliveryPublic:
    """Send the delivery again now, with the same id and body."""
    delivery = await _integrations(store).replay(delivery_id, _who(admin))
    if delivery is None:
        raise HTTPException(404, f"no delivery {delivery_id}")
    return DeliveryPublic.of(delivery)


# ----------------------------------------------------------------------------- API tokens
class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=120, description="What it is for, e.g. CRM sync")
    scopes: list[ScopeName] = Field(min_length=1, max_length=5)
    user_id: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                description="The user the token acts as (default: you)")
    expires_days: float | None = Field(default=None, gt=0, le=3650)


class TokenPublic(BaseModel):
    id: int
    prefix: str
    name: str
    user_id: int
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> "TokenPublic":
        return cls(id=t.id, prefix=t.prefix, name=t.name, user_id=t.user_id, scopes=t.scopes, created_at=t.created_at,
                   expires_at=t.expires_at, last_used_at=t.last_used_at, revoked_at=t.revoked_at)


class TokenWithSecret(TokenPublic):
    token: str = Field(description="Shown this once: send it as Authorization: Bearer <token>")


@router.get("/tokens", response_model=list[TokenPublic])
async def list_tokens(admin: CurrentAdmin, store: StoreDep) -> list[TokenPublic]:
    return [TokenPublic.of(t) for t in await _integrations(store).list_tokens()]


@router.post("/tokens", response_model=TokenWithSecret, status_code=201, responses={404: {}, 422: {}})
async def create_token(body: TokenCreate, admin: CurrentAdmin, store: StoreDep) -> TokenWithSecret:
    """A new API token; the token itself is in this answer only (only its hash is kept)."""
    user = admin if body.user_id is None else await store.get_user(body.user_id)
    if user is None:
        raise HTTPException(404, f"no user {body.user_id}")
    try:
        record, token = await apitokens.create_token(_integrations(store), _who(admin), user, body.name,
                                                     list(body.scopes), body.expires_days)
    except apitokens.TokenError as exc:
        raise _refused(exc) from None
    return TokenWithSecret(**TokenPublic.of(record).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, responses={404: {}})
async def revoke_token(token_id: RowId, admin: CurrentAdmin, store: StoreDep) -> TokenPublic:
    """Revoke a token: it is refused from the next request on. Idempotent."""
    record = await _integrations(store).revoke_token(token_id, _who(admin))
    if record is None:
        raise HTTPException(404, f"no token {token_id}")
    return TokenPublic.of(record)
