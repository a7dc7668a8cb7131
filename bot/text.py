"""The text helpers the conversation rules share: normalising a message, its words, and
"one typo away" for longer words."""

from __future__ import annotations

import re
import unicodedata


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation runs: 'Hablar con una PERSONA!' -> 'hablar con una persona'."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[’']", "'", text)
    return re.sub(r"\s+", " ", re.sub(r"[^\w' ]+", " ", text)).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text)


def _near(word: str, vocabulary: set[str]) -> bool:
    """Exact, or one edit away for words of five letters or more ('represntative', 'humna')."""
    if word in vocabulary:
        return True
    if len(word) < 5:
        return False
    for target in vocabulary:
        if abs(len(target) - len(word)) <= 1 and len(target) >= 5 and _one_edit(word, target):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]
