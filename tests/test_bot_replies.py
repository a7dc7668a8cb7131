"""Every bot reply exists in every language Parley ships, with the same placeholders as English."""

from __future__ import annotations

import string

import pytest

from bot.language import LANGUAGES as DETECTED
from bot.replies import KEYS, LANGUAGES, say, texts


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", KEYS)
def test_every_reply_is_translated_into_every_language_with_the_same_placeholders(key: str) -> None:
    table = texts(key)
    assert set(table) == set(LANGUAGES), f"{key}: missing {set(LANGUAGES) - set(table)}"
    english = _fields(table["en"])
    for lang, template in table.items():
        assert template.strip() and _fields(template) == english, (key, lang, template)
        if lang != "en":
            assert template != table["en"], (key, lang)  # translated, not copied


def test_the_languages_detected_are_the_languages_replied_in_and_a_site_may_choose() -> None:
    from app.sites import LANGUAGES as SITE_LANGUAGES

    assert set(DETECTED) == set(LANGUAGES) == set(SITE_LANGUAGES) == {"en", "de", "fr", "es", "it", "pt", "nl"}


def test_an_unknown_language_falls_back_to_english() -> None:
    assert say("queued", "sv", position=2) == say("queued", "en", position=2)
    assert "2" in say("queued", "nl", position=2) and "wachtrij" in say("queued", "nl", position=2)


def test_widget_strings_cover_the_same_languages() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "widget" / "src"
    i18n = (root / "i18n.js").read_text(encoding="utf-8")
    loader = (root / "loader.js").read_text(encoding="utf-8")
    frame_langs = set(re.findall(r"^  ([a-z]{2}): \{", i18n, flags=re.M))
    loader_block = loader[loader.index("var STR = {"):loader.index("};", loader.index("var STR = {"))]
    loader_langs = set(re.findall(r"^\s+([a-z]{2}): \[", loader_block, flags=re.M))
    assert frame_langs == loader_langs == set(LANGUAGES)
    # every language of the chat frame has every English key
    blocks = dict(re.findall(r"^  ([a-z]{2}): \{(.*?)^  \}", i18n, flags=re.M | re.S))
    def entries(block: str) -> dict[str, set[str]]:  # key -> its {placeholders}
        return {k: set(re.findall(r"\{(\w+)\}", v)) for k, v in re.findall(r"^    (\w+): (.*?),?$", block, flags=re.M)}

    english = entries(blocks["en"])
    for lang, block in blocks.items():
        assert entries(block) == english, lang
