"""User management for admins: list, create, change role, capacity or password, deactivate."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app.auth import MIN_PASSWORD, announce_sessions_changed, hash_password_async
from app.config import Settings
from app.deps import BrokerDep, CurrentAdmin, SettingsDep, StoreDep
from app.safety import demo_password_refused
from app.schemas import RowId, UserPublic
from app.validation import Line
from app.storage.sql import Conflict, NotFound

router = APIRouter(prefix="/api/admin", tags=["admin"])

Role = Literal["agent", "editor", "admin"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Line = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: Line = Field(min_length=1, max_length=120)
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    role: Role
    capacity: int = Field(default=3, ge=1, le=50)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    active: bool | None = None
    capacity: int | None = Field(default=None, ge=1, le=50)
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=1024)


def refuse_demo_password(settings: Settings, password: str) -> None:
    reason = demo_password_refused(settings, password)
    if reason:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, reason)


@router.get("/users", response_model=list[UserPublic])
async def list_users(admin: CurrentAdmin, store: StoreDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in await store.list_users()]


@router.post("/users", response_model=UserPublic, status_code=201, responses={409: {}})
async def create_user(body: UserCreate, admin: CurrentAdmin, store: StoreDep, settings: SettingsDep) -> UserPublic:
    refuse_demo_password(settings, body.password)
    try:
        user = await store.create_user(body.email.strip(), body.name.strip(), await hash_password_async(body.password),
                                       body.role, body.capacity)
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.detail) from None
    return UserPublic.of(user)


@router.patch("/users/{user_id}", response_model=UserPublic, responses={400: {}, 404: {}})
async def update_user(user_id: RowId, body: UserUpdate, admin: CurrentAdmin, store: StoreDep,
                      broker: BrokerDep, settings: SettingsDep) -> UserPublic:
    """A new password, a new role or deactivation ends the user's sessions, and their open sockets
    close with 1008 `session ended`: they must log in again."""
    fields = body.model_dump(exclude_none=True)
    if user_id == admin.id and (fields.get("active") is False or fields.get("role", "admin") != "admin"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "you cannot deactivate yourself or drop your own admin role; ask another admin")
    if "password" in fields:
        refuse_demo_password(settings, fields["password"])
        fields["password_hash"] = await hash_password_async(fields.pop("password"))
    try:
        user = await store.update_user(user_id, **fields)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found") from None
    if fields.keys() & {"password_hash", "role", "active"}:
        await announce_sessions_changed(broker, user.id)  # sockets re-check; an unchanged role keeps its session
    if not user.active:
        await store.set_presence(user.id, "offline")  # a deactivated agent gets no new cases
    return UserPublic.of(user)
