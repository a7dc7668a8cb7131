"""Which language a customer writes in, from the message itself (not only the page's `lang`).

A stop-word vote: each supported language's most frequent function words, counted over the
message's words. Only a clear winner with at least two of its words in a message of three or more
words counts; anything else keeps the conversation's language. Cheap (a set lookup per word) and
good enough to answer "Wie lange dauert der Versand?" in German.
"""

from __future__ import annotations

import re

_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the a an is are do does how what where when why can i my you your to of for and in on it "
                    "with this that have has not please".split()),
    "de": frozenset("der die das ist sind wie was wo wann warum kann ich mein meine sie ihr zu von für und in "
                    "mit nicht bitte ein eine dauert nach habe hat den dem bei auf".split()),
    "fr": frozenset("le la les est sont comment quoi où quand pourquoi je mon ma mes vous votre pour et dans "
                    "avec ne pas une un des du au aux est-ce qu que svp de combien prend".split()),
    "es": frozenset("el la los las es son cómo como qué que dónde cuándo por yo mi mis usted su para y en con "
                    "no una un del al puedo tengo está cuánto cuanto tarda envío".split()),
    "it": frozenset("il lo la gli le è sono come cosa dove quando perché io mio mia voi vostro per e in con "
                    "non una uno del della posso ho quanto ci di vuole".split()),
    "pt": frozenset("o a os as é são como quê que onde quando porque eu meu minha você seu para e em com não "
                    "uma um do da posso tenho está quanto demora de".split()),
    "nl": frozenset("de het een is zijn hoe wat waar wanneer waarom ik mijn u uw jij je voor en in met niet "
                    "kan heb van naar duurt".split()),
}
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?", re.UNICODE)


def detect(text: str) -> str | None:
    words = [w.lower() for w in _TOKEN.findall(text)]
    if len(words) < 3:
        return None
    votes = {lang: sum(1 for w in words if w in vocab) for lang, vocab in _WORDS.items()}
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 2 and top > second else None
