"""GET /api/vocabulary: the labels the pages show for escalation reasons and bot actions (app/vocabulary.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.vocabulary import vocabulary

router = APIRouter(tags=["vocabulary"])


@router.get("/api/vocabulary")
async def get_vocabulary(response: Response) -> dict[str, dict[str, str]]:
    """Escalation reasons and bot actions with their plain labels (public: no data of anyone's)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return vocabulary()
