"""Privacy requests (admin): export everything about one contact, or erase it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from app import privacy
from app.deps import CurrentAdmin, ServicesDep
from app.validation import Line

router = APIRouter(prefix="/api/contacts", tags=["privacy"])
ContactKey = Path(min_length=1, max_length=254, description="The contact's email or the site's user_id.")


@router.get("/{key}/export", responses={404: {}})
async def export_contact(admin: CurrentAdmin, services: ServicesDep, key: Annotated[Line, ContactKey]) -> dict[str, Any]:
    """Every conversation, event and case stored about the contact, as JSON."""
    data = await privacy.export_contact(services.store, key)
    if not data["conversations"]:
        raise HTTPException(404, "nothing is stored about this contact")
    return data


@router.delete("/{key}")
async def erase_contact(admin: CurrentAdmin, services: ServicesDep, key: Annotated[Line, ContactKey]) -> dict[str, int]:
    """Delete the contact's conversations and everything derived from them. Idempotent."""
    result = await privacy.erase_contact(services.settings, services.store, key, services.broker)
    if result["conversations"]:
        services.desk.metrics.purged.labels("erasure").inc(result["conversations"])
    return {k: int(v) for k, v in result.items()}
