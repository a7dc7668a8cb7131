"""Escalation reasons and bot actions are defined once (app/vocabulary.py) and served to the pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from app.vocabulary import ACTION_LABELS, ESCALATION_REASONS, FILTER_REASONS, REASON_LABELS
from bot.decision import ESCALATION_REASONS as BOT_REASONS
from tests.harness import LiveServer

ROOT = Path(__file__).resolve().parents[1]


def test_every_reason_the_bot_gives_has_a_label() -> None:
    assert set(BOT_REASONS) <= set(ESCALATION_REASONS)
    assert all(REASON_LABELS[r].strip() and "_" not in REASON_LABELS[r] for r in ESCALATION_REASONS)
    assert "follow_up" not in FILTER_REASONS and set(FILTER_REASONS) < set(ESCALATION_REASONS)
    assert all(label and "_" not in label for label in ACTION_LABELS.values())


def test_no_page_keeps_its_own_copy_of_the_reasons() -> None:
    copies = []
    for path in (ROOT / "app" / "ui").rglob("*"):
        if path.suffix in (".js", ".html"):
            text = path.read_text(encoding="utf-8")
            # a label table or an <option> list spelled out in the page
            if re.search(r"customer_request\s*:", text) or 'value="customer_request"' in text:
                copies.append(str(path.relative_to(ROOT)))
    assert copies == []


def test_the_vocabulary_is_served(live_server: LiveServer) -> None:
    r = httpx.get(live_server.base_url + "/api/vocabulary", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["reasons"] == REASON_LABELS and body["actions"] == ACTION_LABELS
