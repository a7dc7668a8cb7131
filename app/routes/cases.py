"""Cases with their full ordered transcript, for agents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.conversation import DeskError
from app.deps import CurrentAgent, DeskDep, StoreDep
from app.schemas import CaseOut, RowId

router = APIRouter(prefix="/api/cases", tags=["cases"])


@router.get("", response_model=list[CaseOut])
async def list_cases(user: CurrentAgent, store: StoreDep,
                     status: Literal["queued", "assigned", "resolved", "bot"] | None = None,
                     limit: int = Query(default=100, ge=1, le=500)) -> list[CaseOut]:
    cases = await store.list_cases(status=status, limit=limit)
    return [CaseOut.of(c, await store.events_after(c.conversation_id, 0, include_internal=True)) for c in cases]


@router.get("/{case_id}", response_model=CaseOut, responses={404: {}})
async def get_case(case_id: RowId, user: CurrentAgent, store: StoreDep) -> CaseOut:
    case = await store.get_case(case_id)
    if case is None:
        raise HTTPException(404, f"case {case_id} not found")
    return CaseOut.of(case, await store.events_after(case.conversation_id, 0, include_internal=True))


Priority = Literal["low", "normal", "high", "urgent"]
# a tag: lower case, letters, digits, spaces, dots, dashes and underscores, at most 40 characters
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40,
                                       pattern=r"^[\w][\w .-]*$")]


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(tag.split()) for tag in tags))


class CaseLabels(BaseModel):
    """A case's priority and tags; a field left out is unchanged, `tags` replaces the list."""
    model_config = ConfigDict(extra="forbid")
    priority: Priority | None = None
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique)] | None = None


@router.patch("/{case_id}", response_model=CaseOut, responses={404: {}})
async def label_case(case_id: RowId, body: CaseLabels, user: CurrentAgent, store: StoreDep, desk: DeskDep) -> CaseOut:
    """Set the priority (the queue sorts urgent first) and/or the tags; any agent may, on any case."""
    try:
        case = await desk.label_case(case_id, body.priority, body.tags)
    except DeskError as exc:
        raise HTTPException(404, exc.detail) from None
    return CaseOut.of(case, await store.events_after(case.conversation_id, 0, include_internal=True))
