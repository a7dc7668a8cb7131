"""The customer-facing REST's wire models (app/routes/transcripts.py), never the stored row."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app import events as ev


class TranscriptEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=128)
    email: ev.EmailAddress
