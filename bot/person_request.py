"""Requests for a person (the words it reads by are in bot/person_words.py).

A request names someone to talk to (a target: "agent", "a person", "customer service") and asks
for them: a verb of talking or connecting, or of wanting, next to it with only small words
between ("speak to a real person", "mit einem Mitarbeiter sprechen", "een medewerker spreken");
or the target alone with "please" ("agent pls", "Mitarbeiter bitte"); or a phone number, a
callback, "is there a human", "not a bot". Ordinary questions name people too ("add a person to
my account", "agent fees", "Customer support languages", "transfer my plan to someone else"):
there the word between the verb and the person is not a small word, or there is no such verb.
"""

from __future__ import annotations

import re

from bot.person_words import (
    _ABOUT_BOT_RE, _AVAILABLE, _BETWEEN, _BOT, _BOT_PHRASES_RE, _CALLBACK_RE, _COMPOUND_RES, _EXISTS_RE, _FILLERS,
    _GIVE, _HELP_NOUNS, _HELPERS, _HELPERS_WITH_VERB, _ME, _NEGATION, _NOT_IMPERATIVE, _NOT_NEAR, _PEOPLE, _PHONE,
    _REAL, _REAL_HUMANS, _SERVICES, _SUPPORT, _TALK, _TALK_AFTER, _TALK_PREFIXES, _TARGET_DOES, _WANT,
)
from bot.text import _near, _words, normalise


def _drop_questions_about_the_bot(text: str) -> str:
    """'are you a real person? i want an agent' -> 'i want an agent': a sentence asking what the bot
    is (small talk) asks for no one, unless it also asks to talk or wants someone."""
    kept = []
    for sentence in re.split(r"[?!.;\n]+", text):
        norm = _compound(normalise(sentence))
        match = _ABOUT_BOT_RE.search(norm)
        if match:
            rest = _words(norm[:match.start()] + " " + norm[match.end():])
            if not any(w in _WANT or w in _TALK for w in rest):
                continue
        kept.append(sentence)
    return " , ".join(kept)


def _compound(norm: str) -> str:
    norm = re.sub(r"n't\b", " not", norm).replace("'", " ")
    for pattern, token in _COMPOUND_RES:
        norm = pattern.sub(token, norm)
    return norm


def _is_target(word: str, people: bool = True, support: bool = False) -> bool:
    return ((word not in _NOT_NEAR and _near(word, _HELPERS)) or (people and (word in _PEOPLE or _near(word, {"someone", "somebody", "person"})))
            or (support and word in _SUPPORT))


def _joined(words: list[str], i: int, j: int) -> bool:
    """Only small words strictly between positions i and j (either order), at most five."""
    lo, hi = min(i, j), max(i, j)
    return hi - lo <= 6 and all(w in _BETWEEN for w in words[lo + 1:hi])


_TASK_LINKS = {"to", "who", "that", "for", "um", "pour", "para", "per", "que", "qui", "quien", "die", "om", "der", "che"}


def _for_a_task(words: list[str], i: int) -> bool:
    """'I need someone to look at my car': someone for a task that is not talking or helping."""
    if i + 2 >= len(words) or words[i + 1] not in _TASK_LINKS:
        return False
    after = words[i + 2: i + 5]
    modal = {"can", "kann", "kan", "peut", "puede", "pode", "puo"}  # "someone who can help"
    return not any(w in _TALK or w in _TALK_AFTER or w in _TARGET_DOES or w in modal for w in after)


def is_human_request(text: str) -> bool:
    """Does the customer ask for a person? See the module docstring for how it reads."""
    if len(text) > 400:  # a long message is a question, not a request; only a callback or "forward me" counts
        norm = normalise(text[:2000])
        return bool(_CALLBACK_RE.search(norm) or _BOT_PHRASES_RE.search(norm))
    norm = _compound(normalise(_drop_questions_about_the_bot(text)))
    if not norm or "mustiquestion" in norm:  # "do I have to talk to someone to close my account?" asks how
        return False
    if _CALLBACK_RE.search(norm):
        return True
    words = _words(norm)
    if not words or len(words) > 24:
        return False
    content = [w for w in words if w not in _FILLERS]
    # "agent", "human pls", "Mitarbeiter bitte", "a real person please", "echte persoon", "service client svp"
    if content and len(content) <= 2 and len(words) <= 6 and all(
            _is_target(w) or w in _REAL or w in _SUPPORT for w in content) and any(_is_target(w) for w in content):
        people_only = all(w in _PEOPLE for w in content)
        if not people_only or len(words) <= 4 or any(w in _REAL for w in words):
            return True
    for i, word in enumerate(words):
        helper = (word not in _NOT_NEAR and _near(word, _HELPERS)) or word in _HELPERS_WITH_VERB
        person = word in _PEOPLE or _near(word, {"someone", "somebody", "person"})
        support = word in _SUPPORT
        if not (helper or person or support):
            continue
        task = person and not helper and _for_a_task(words, i)  # "find someone to look at my car"
        for j, other in enumerate(words):
            if j == i or not _joined(words, i, j):
                continue
            if other.startswith(_TALK_PREFIXES) and j < i and not person:
                return True  # "transfiérame a atención al cliente", "me transfira para o atendimento"
            if other in _GIVE and j < i and (task or not (any(w in _ME or w in {"over", "through", "door"}
                                                              for w in words[max(0, j - 2):i]) or (helper and j <= 1 and other not in _NOT_IMPERATIVE))):
                continue  # "get me a real person", "can I get a live agent"; not "krijgen medewerkers korting"
            talks = other in _TALK and not (person and other in {"call", "contact"})  # "call someone" dials
            if talks and ((j < i and not (support and other in _GIVE)) or (j > i and other in _TALK_AFTER)):
                return True  # "speak to someone", "mit einem Mitarbeiter sprechen", "klantenservice bellen"
            if other in _WANT and not support and (j < i or other in {"nodig", "needed"}) and not (
                    j > 0 and words[j - 1] in _NEGATION) and not task and word != "otherperson":
                return True  # "I want a human", "ich brauche einen Menschen", "ik heb een mens nodig"
            if j > i and other in _TARGET_DOES and not support and len(words) - j <= 3:
                return True  # "can someone help me?", "qualcuno mi può chiamare?" (not "can someone help me unblock my pin")
        if (helper or person) and word not in {"people", "team", "staff", "member"} and any(
                w in _REAL for w in words[max(0, i - 2):i + 3] if w != word):
            if person or len(words) <= 8:
                return True  # "get me a real person", "persona de verdad", "an actual human"
        if helper and word not in _HELPERS_WITH_VERB and _EXISTS_RE.search(" ".join(words[max(0, i - 5):i])):
            if word in _REAL_HUMANS or (i == len(words) - 1 and word not in _SERVICES):
                return True  # "is there a human I can talk to", "any humans around?", "is er een mens aanwezig"
        if helper and word not in _SERVICES and len(words) <= 8 and any(
                w in _AVAILABLE for w in words[i + 1:i + 4]):
            return True  # "is a human available?", "c'è un operatore disponibile?", "ist ein Mitarbeiter da?"
        if helper or support:
            if any(w in _PHONE and _joined(words, i, j) for j, w in enumerate(words)):
                return True  # "customer service number", "Telefonnummer vom Kundenservice"
        if (helper or person) and any(w in _HELP_NOUNS and _joined(words, j, i) for j, w in enumerate(words[:i])):
            return True  # "help from a human", "Hilfe von einem Menschen", "hulp van een medewerker"
    if any(w in _BOT for w in words) and any(w in _NEGATION for w in words):
        bot_at = next(i for i, w in enumerate(words) if w in _BOT)
        negated = any(w in _NEGATION for w in words[max(0, bot_at - 6):bot_at])
        asks = len(words) <= 4 or any(w in _WANT or w in _TALK or _is_target(w) for w in words)
        if negated and asks:
            return True  # "I don't want to talk to a bot", "kein Bot bitte", "ik wil geen bot", "no robot"
    return bool(_BOT_PHRASES_RE.search(norm))
