"""Message text rules shared by every sender (app/events.py check_text), issue 17 #15."""

from __future__ import annotations

import pytest

from app.events import FrameError, check_text


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200d \ufeff", "\u2060\u2060"])
def test_zero_width_characters_alone_are_an_empty_message(text: str) -> None:
    with pytest.raises(FrameError) as err:
        check_text(text, 4000)
    assert err.value.code == "empty_text"


@pytest.mark.parametrize("text", ["refund \u202egnp.exe", "hi \u2066there\u2069", "\u202dforced"])
def test_bidirectional_overrides_are_refused(text: str) -> None:
    with pytest.raises(FrameError) as err:
        check_text(text, 4000)
    assert err.value.code == "invalid_text"


def test_ordinary_text_in_any_script_passes() -> None:
    for text in ("مرحبا، أين طلبي؟", "שלום", "naïve café", "emoji 👍🏽 ok", "a\u200db"):
        assert check_text(text, 4000) == text
