"""What the bot would do with a first message, without storing anything."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from app.conversation import answer_markup
from app.deps import CurrentEditor, DeskDep
from app.schemas import CandidateOut, PreviewIn, PreviewOut
from bot import ConversationContext, respond

router = APIRouter(prefix="/api/bot", tags=["bot"])


@router.post("/preview", response_model=PreviewOut)
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


@router.get("/calibration")
async def calibration(user: CurrentEditor, desk: DeskDep) -> dict[str, object]:
    """The knowledge base's own thresholds (knowledge_base/calibration.py), the overrides set in the
    configuration (PARLEY_ANSWER_THRESHOLD, PARLEY_OUT_OF_SCOPE_THRESHOLD), and what decides now."""
    from bot.decision import thresholds

    cal = desk.kb.calibration
    answer, offer = thresholds(desk.bot_config, cal)
    return {"calibration": cal.record(), "current": cal.generation == desk.kb.index.generation,
            "overrides": {"answer_threshold": desk.bot_config.answer_threshold,
                          "out_of_scope_threshold": desk.bot_config.out_of_scope_threshold},
            "effective": {"answer_threshold": round(answer, 4), "offer_threshold": round(offer, 4)},
            "articles": len(desk.kb.articles)}
