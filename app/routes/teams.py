"""Teams and routing rules: admins manage them (/api/admin/teams, /api/admin/routing-rules);
agents list the teams (/api/teams) for the console's team filter and transfers to a team."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import CurrentAdmin, CurrentAgent, StoreDep
from app.schemas import RowId
from app.storage.errors import Conflict, NotFound
from app.storage.records import RoutingRule, Team, User
from app.storage.sites import Audit
from app.storage.tables import INT_MAX
from app.validation import Line
from app.vocabulary import ESCALATION_REASONS

router = APIRouter(tags=["teams"])
NAME_PATTERN = r"^\S(.*\S)?$"  # no leading or trailing spaces
Reason = Literal[ESCALATION_REASONS]  # type: ignore[valid-type]
UserId = Annotated[int, Field(ge=1, le=INT_MAX)]


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=80, pattern=NAME_PATTERN)
    member_ids: list[UserId] = Field(default_factory=list, max_length=500)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line | None = Field(default=None, min_length=1, max_length=80, pattern=NAME_PATTERN)
    member_ids: list[UserId] | None = Field(default=None, max_length=500, description="The full new list.")


class TeamOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    member_ids: list[int]

    @classmethod
    def of(cls, team: Team) -> "TeamOut":
        return cls(id=team.id, name=team.name, created_at=team.created_at, member_ids=list(team.member_ids))


class RuleCreate(BaseModel):
    """Every set field must match for the rule to apply; leave a field out to match any."""
    model_config = ConfigDict(extra="forbid")
    team_id: int = Field(ge=1, le=INT_MAX)
    position: int | None = Field(default=None, ge=0, le=100_000, description="Lower first; default last.")
    site_key: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,8}$", description="The customer's language: en, de…")
    reason: Reason | None = Field(default=None, description="The escalation reason, e.g. customer_request.")


class RuleOut(BaseModel):
    id: int
    position: int
    team_id: int
    site_key: str | None
    language: str | None
    reason: str | None

    @classmethod
    def of(cls, rule: RoutingRule) -> "RuleOut":
        return cls(**vars(rule))


def _who(admin: User) -> Audit:
    return Audit(admin.email, admin.id)


@router.get("/api/teams", response_model=list[TeamOut])
async def teams_for_agents(user: CurrentAgent, store: StoreDep) -> list[TeamOut]:
    return [TeamOut.of(team) for team in await store.list_teams()]


@router.get("/api/admin/teams", response_model=list[TeamOut])
async def list_teams(admin: CurrentAdmin, store: StoreDep) -> list[TeamOut]:
    return [TeamOut.of(team) for team in await store.list_teams()]


@router.post("/api/admin/teams", response_model=TeamOut, status_code=201, responses={404: {}, 409: {}})
async def create_team(body: TeamCreate, admin: CurrentAdmin, store: StoreDep) -> TeamOut:
    members = body.member_ids
    team = await store.create_team(body.name, _who(admin))
    if team is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a team named {body.name!r} already exists")
    if members:
        try:
            team = await store.update_team(team.id, _who(admin), member_ids=members)
        except NotFound as exc:
            await store.delete_team(team.id, _who(admin))
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        assert team is not None
    return TeamOut.of(team)


@router.patch("/api/admin/teams/{team_id}", response_model=TeamOut, responses={404: {}, 409: {}})
async def update_team(team_id: RowId, body: TeamUpdate, admin: CurrentAdmin, store: StoreDep) -> TeamOut:
    """Rename the team and/or replace its members (the full list)."""
    try:
        team = await store.update_team(team_id, _who(admin), name=body.name,
                                       member_ids=body.member_ids)
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.detail) from None
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    if team is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"team {team_id} not found")
    return TeamOut.of(team)


@router.delete("/api/admin/teams/{team_id}", status_code=204, responses={404: {}})
async def delete_team(team_id: RowId, admin: CurrentAdmin, store: StoreDep) -> None:
    """Its cases keep no team; its routing rules are deleted with it."""
    if not await store.delete_team(team_id, _who(admin)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"team {team_id} not found")


@router.get("/api/admin/routing-rules", response_model=list[RuleOut])
async def list_rules(admin: CurrentAdmin, store: StoreDep) -> list[RuleOut]:
    """In the order they are tried: the first whose set fields all match a new case picks its team."""
    return [RuleOut.of(rule) for rule in await store.list_routing_rules()]


@router.post("/api/admin/routing-rules", response_model=RuleOut, status_code=201, responses={404: {}})
async def create_rule(body: RuleCreate, admin: CurrentAdmin, store: StoreDep) -> RuleOut:
    rule = await store.create_routing_rule(body.team_id, _who(admin), position=body.position, site_key=body.site_key,
                                           language=body.language, reason=body.reason)
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"team {body.team_id} not found")
    return RuleOut.of(rule)


@router.delete("/api/admin/routing-rules/{rule_id}", status_code=204, responses={404: {}})
async def delete_rule(rule_id: RowId, admin: CurrentAdmin, store: StoreDep) -> None:
    if not await store.delete_routing_rule(rule_id, _who(admin)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"routing rule {rule_id} not found")
