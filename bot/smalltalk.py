"""Small talk by meaning: a nearest-neighbour detector over hand-written exemplars.

The word rules in bot/intents.py catch "thanks" and "hello"; customers also write "nice one",
"am i talking to a robot lol", "sorry, wrong window" or just an emoji, which the knowledge base
scores as out of scope. A short message whose embedding lies within `THRESHOLD` of an exemplar,
and that no article answers confidently, is small talk of that exemplar's kind. The exemplars are
written here (not taken from any benchmark), in the languages Parley ships.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

THRESHOLD = 0.72  # exemplar matches measured 0.74-0.98; covered shop questions at most 0.45 (int8 MiniLM)
MAX_WORDS = 8

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "greeting": ("hi", "hello", "hey there", "good morning", "hiya", "hallo", "bonjour", "hola", "ciao", "olá",
                 "goedemorgen", "guten tag", "buenos días", "yo", "hi, anyone there?", "hello? is anyone there"),
    "thanks": ("thanks", "thank you so much", "thx", "cheers mate", "much appreciated", "that's great, thanks",
               "danke schön", "merci beaucoup", "muchas gracias", "grazie mille", "obrigado", "bedankt",
               "perfect, thank you", "thanks for your help"),
    "goodbye": ("bye", "goodbye", "see you", "have a nice day", "that's all, bye", "tschüss", "au revoir",
                "adiós", "arrivederci", "tot ziens", "tchau", "i'm done, bye"),
    "bot_question": ("are you a bot", "am i talking to a robot", "is this a real person", "are you human",
                     "are you an ai", "is this automated", "bist du ein bot", "es-tu un robot", "eres un bot",
                     "sei un bot", "você é um robô", "ben je een bot", "am i talking to a robot lol",
                     "who am i talking to"),
    "apology": ("sorry, wrong window", "oops wrong chat", "sorry my mistake", "never mind", "ignore that",
                "sorry, typo", "nevermind", "pardon", "entschuldigung", "désolé", "perdón", "scusa", "sorry hoor"),
    "acknowledge": ("ok", "okay", "cool", "great", "nice one", "awesome", "got it", "perfect", "alright",
                    "sounds good", "👍", "🙂", "😊", "ok cool", "great stuff", "super", "genial", "parfait",
                    "va bene", "prima", "lol", "haha"),
}


class SmallTalkDetector:
    def __init__(self, embedder: Any) -> None:
        self.kinds: list[str] = [k for k, texts in EXEMPLARS.items() for _ in texts]
        self.vectors = np.asarray(embedder.encode([t for texts in EXEMPLARS.values() for t in texts]), dtype=np.float32)

    def kind(self, vector: np.ndarray) -> tuple[str, float]:
        sims = self.vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        best = int(np.argmax(sims))
        return self.kinds[best], float(sims[best])


_detectors: "weakref.WeakKeyDictionary[Any, SmallTalkDetector]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def detector_for(embedder: Any) -> SmallTalkDetector | None:
    """One detector per embedder (its exemplars encoded once); None for a knowledge base without one."""
    if embedder is None:
        return None
    with _lock:
        found = _detectors.get(embedder)
        if found is None:
            found = SmallTalkDetector(embedder)
            _detectors[embedder] = found
        return found


def smalltalk_by_meaning(text: str, vector: Any, embedder: Any) -> str | None:
    if vector is None or len(text.split()) > MAX_WORDS:
        return None
    detector = detector_for(embedder)
    if detector is None:
        return None
    kind, similarity = detector.kind(vector)
    return kind if similarity >= THRESHOLD else None
