"""Cases with their full ordered transcript, for agents."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query

from app.deps import CurrentAgent, StoreDep
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
