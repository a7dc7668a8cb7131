"""The bot for editors: what it would do with a first message (stores nothing), and the thresholds
it decides by: calibrated, overridden by an editor, or set by the operator (/editor/calibration)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.conversation import answer_markup
from app.deps import CurrentEditor, DeskDep, KnowledgeDep, StoreDep
from app.knowledge import KnowledgeRuntime
from app.schemas import CandidateOut, PreviewIn, PreviewOut
from app.storage.desk_settings import THRESHOLDS_KEY, get_setting
from app.storage.sites import Audit
from bot import ConversationContext, respond

router = APIRouter(tags=["bot"])


@router.post("/api/bot/preview", response_model=PreviewOut)
async def preview(body: PreviewIn, user: CurrentEditor, desk: DeskDep) -> PreviewOut:
    decision = await asyncio.to_thread(respond, body.text, ConversationContext(lang=body.lang), desk.kb, desk.bot_config)
    markup = answer_markup(decision.article) if decision.action == "answer" and decision.article else {}
    return PreviewOut(
        html=markup.get("html"), more_html=markup.get("more_html"),
        action=decision.action,  # type: ignore[arg-type]
        article_id=decision.article.article_id if decision.article else None,
        confidence=round(decision.confidence, 4), reason=decision.reason, text=decision.text,
        candidates=[CandidateOut(article_id=c.article_id, title=c.title, score=round(c.score, 4)) for c in decision.candidates],
        suggestions=[CandidateOut(article_id=c.article_id, title=c.title, score=round(c.score, 4)) for c in decision.suggestions],
        timings_ms={k: round(v, 3) for k, v in decision.timings_ms.items()},
    )


class ThresholdsIn(BaseModel):
    """An editor's thresholds: cosine-like scores between 0 and 1, the offer one not above the answer one."""

    model_config = ConfigDict(extra="forbid")
    answer_threshold: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    offer_threshold: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def offer_not_above_answer(self) -> "ThresholdsIn":
        if self.offer_threshold > self.answer_threshold:
            raise ValueError("offer_threshold must not be above answer_threshold")
        return self


async def _calibration_out(desk: Any, knowledge: KnowledgeRuntime, store: Any) -> dict[str, object]:
    from bot.decision import thresholds

    cal = desk.kb.calibration  # what decides: the editors' override, if any, on the derived thresholds
    answer, offer = thresholds(desk.bot_config, cal)
    config = desk.bot_config
    found = await get_setting(store, THRESHOLDS_KEY)
    editor: dict[str, object] | None = None
    if found is not None and cal.overridden:
        value, at, by = found
        editor = {"answer_threshold": cal.answer, "offer_threshold": cal.offer,
                  "updated_at": at.isoformat() if at else None, "updated_by": by}
    history = [{"at": e.created_at.isoformat(), "actor": e.actor, "action": e.action,
                "answer_threshold": e.detail.get("answer_threshold"), "offer_threshold": e.detail.get("offer_threshold")}
               for e in await store.list_audit(10, THRESHOLDS_KEY)]

    def source(operator: float | None) -> str:
        return "operator" if operator is not None else ("editor" if cal.overridden else "calibrated")

    return {"calibration": cal.record(), "current": cal.generation == desk.kb.index.generation,
            "overrides": {"answer_threshold": config.answer_threshold,
                          "out_of_scope_threshold": config.out_of_scope_threshold},
            "editor_override": editor,
            "effective": {"answer_threshold": round(answer, 4), "offer_threshold": round(offer, 4),
                          "answer_source": source(config.answer_threshold),
                          "offer_source": source(config.out_of_scope_threshold)},
            "history": history, "articles": len(desk.kb.articles)}


@router.get("/api/bot/calibration")
async def calibration(user: CurrentEditor, desk: DeskDep, knowledge: KnowledgeDep, store: StoreDep) -> dict[str, object]:
    """The knowledge base's own thresholds and how they were derived (knowledge_base/calibration.py),
    the editors' override (PUT /api/bot/calibration/override), the operator's overrides set in the
    configuration (PARLEY_ANSWER_THRESHOLD, PARLEY_OUT_OF_SCOPE_THRESHOLD, which win over both), and
    what decides now."""
    return await _calibration_out(desk, knowledge, store)


@router.put("/api/bot/calibration/override")
async def set_override(body: ThresholdsIn, user: CurrentEditor, desk: DeskDep, knowledge: KnowledgeDep,
                       store: StoreDep) -> dict[str, object]:
    """Decide with these thresholds instead of the calibrated ones, on every process; audited."""
    await knowledge.set_override((body.answer_threshold, body.offer_threshold), Audit(user.email, user.id))
    return await _calibration_out(desk, knowledge, store)


@router.delete("/api/bot/calibration/override")
async def clear_override(user: CurrentEditor, desk: DeskDep, knowledge: KnowledgeDep,
                         store: StoreDep) -> dict[str, object]:
    """Back to the calibrated thresholds, on every process; audited."""
    await knowledge.set_override(None, Audit(user.email, user.id))
    return await _calibration_out(desk, knowledge, store)


@router.get("/editor/calibration", include_in_schema=False)
async def calibration_page() -> HTMLResponse:
    from app import web  # the staff pages' one static mechanism

    return web.page("editor", "calibration.html")
