"""What the bot would do with a first message, without storing anything."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from app.deps import CurrentEditor, DeskDep
from app.schemas import CandidateOut, PreviewIn, PreviewOut
from bot import ConversationContext, respond

router = APIRouter(prefix="/api/bot", tags=["bot"])


@router.post("/preview", response_model=PreviewOut)
async def preview(body: PreviewIn, user: CurrentEditor, desk: DeskDep) -> PreviewOut:
    decision = await asyncio.to_thread(respond, body.text, ConversationContext(lang=body.lang), desk.kb, desk.bot_config)
    return PreviewOut(
        action=decision.action,  # type: ignore[arg-type]
        article_id=decision.article.article_id if decision.article else None,
        confidence=round(decision.confidence, 4), reason=decision.reason, text=decision.text,
        candidates=[CandidateOut(article_id=c.article_id, title=c.title, score=round(c.score, 4)) for c in decision.candidates],
        suggestions=[CandidateOut(article_id=c.article_id, title=c.title, score=round(c.score, 4)) for c in decision.suggestions],
        timings_ms={k: round(v, 3) for k, v in decision.timings_ms.items()},
    )
