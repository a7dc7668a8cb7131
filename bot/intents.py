"""Recognisers for what the customer says about the conversation itself, not about the articles.

Plain functions over text: requests for a person (six languages, slang and typos), small talk,
frustration, and "that didn't help".
"""

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


# Words that can only mean a human helper, in en/fr/es/de/pt/it (accent-free, lower-case).
_HELPER_WORDS = {
    "human", "humans", "agent", "agents", "representative", "rep", "operator", "manager", "supervisor",
    "advisor", "humain", "humaine", "conseiller", "conseillere", "operateur", "humano", "agente",
    "asesor", "asesora", "operador", "operadora", "encargado", "mensch", "menschen", "mitarbeiter",
    "mitarbeiterin", "berater", "beraterin", "kundendienst", "kundenservice", "vorgesetzten", "atendente",
    "gerente", "umano", "operatore", "operatrice", "consulente", "responsabile",
}
# Words that name a person in general: "3 people", "can someone look at my car", "the delivery
# person". They ask for a human only as what the customer wants to talk to (see _TALK_VERBS).
_PERSON_WORDS = {
    "person", "people", "someone", "somebody", "staff", "employee", "assistant", "personne", "persona", "alguien",
    "jemand", "jemandem", "pessoa", "alguem", "qualcuno", "quelqu'un", "responsable",
}
# Verbs and words that ask to be connected (with a helper word).
_CONNECT_WORDS = {
    "talk", "speak", "chat", "connect", "transfer", "escalate", "call", "contact", "reach", "get", "gimme",
    "want", "need", "give", "put", "let", "can", "could", "may", "pls", "plz", "please", "real", "live",
    "actual", "proper", "forward", "parler", "discuter", "joindre", "contacter", "veux", "voudrais", "besoin",
    "passer", "hablar", "comunicar", "quiero", "necesito", "pasame", "pasar", "contactar", "sprechen", "reden",
    "mochte", "moechte", "will", "brauche", "verbinden", "falar", "quero", "preciso", "passar",
    "parlare", "voglio", "vorrei", "bisogno", "passami", "contattare", "echte", "echten", "vraie",
    "vrai", "real", "reale", "verdadera", "verdadeira",
}
# Verbs of talking to someone, and adjectives of a real person: what makes "a person" a request.
_TALK_VERBS = {
    "talk", "speak", "chat", "connect", "transfer", "reach", "contact", "parler", "discuter", "joindre",
    "contacter", "hablar", "comunicar", "contactar", "sprechen", "reden", "verbinden", "falar", "parlare",
    "contattare", "real", "live", "actual", "proper", "vraie", "vrai", "echte", "echten", "echter", "richtige",
    "richtigen", "reale", "verdadera", "verdadeira",
}
_FILLER = {"a", "an", "some", "please", "pls", "plz", "now", "asap", "thanks", "une", "un", "uma", "um", "una", "eine",
           "einen", "por", "favor", "bitte", "svp"}
_PHRASES = [
    r"\b(live|real|actual) (chat|agent|person|human|people)\b",
    r"\bcustomer (service|support|care)\b",
    r"\b(talk|speak|chat) (to|with) (a |an |the |your |some )?(human|person|someone|somebody|agent|rep|manager|supervisor|real)",
    r"\bnot (a |an )?(bot|robot|machine)\b",
    r"\b(stop|no more|enough) (bot|robot)\b",
    r"\b(do ?n'?t|dont|do not|no) (want|wanna|like) (to )?(talk|speak|chat)(ing)? (to|with) (a |an |the |your |this )?(bot|robot|machine|computer)",
    r"\b(tired of|hate|sick of|stop|no more|done) talking to (a |an |the |this )?(bot|robot|machine|computer)\b",
    r"\btalking to (a |an |the |this )?(bot|robot|machine|computer) (is|sucks)\b",
    r"\bhuman (support|help|agent)\b",
    r"\b(forward|transfer|connect|put) me (on |over |through )?(to|with)\b",
    r"^(human )?hand ?off( please| pls| now)?$",
    r"\b(human|agent|person|operator|representative) (please|pls|plz|now)\b",
    r"\b(want|need|wanna|prefer|demand|request) (a |an |some |a real |a live |to see a )?(person|someone|somebody)\b",
    r"\bservice client\b", r"\bservicio al cliente\b", r"\batencion al cliente\b", r"\batendimento\b",
    r"\bservizio clienti\b", r"\bpersona (real|reale|de verdad)\b", r"\bpessoa real\b",
    r"\b(echte[nm]?|richtige[nm]?) (person|mensch|menschen|mitarbeiter)\b",
    r"\bvraie personne\b", r"\betre humain\b", r"\bser humano\b", r"\bessere umano\b",
]
_PHRASE_RE = re.compile("|".join(_PHRASES))


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


def is_human_request(text: str) -> bool:
    norm = normalise(text)
    if not norm:
        return False
    if _PHRASE_RE.search(norm):
        return True
    words = _words(norm)
    if len(words) > 14:
        return False
    for i, word in enumerate(words):
        if _near(word, _HELPER_WORDS):
            # "agent", "human pls", or a helper word with a connect word in a short message
            if len(words) <= 3 or any(w in _CONNECT_WORDS for w in words):
                return True
        elif word in _PERSON_WORDS:
            # "a person please" alone, or what a talk verb (a few words before) or "real"/"live" is about
            if all(w == word or w in _FILLER for w in words) or any(w in _TALK_VERBS for w in words[max(0, i - 4):i]):
                return True
    return False


_GREETINGS = {
    "hi", "hello", "hey", "heya", "hiya", "yo", "howdy", "morning", "evening", "afternoon", "good",
    "bonjour", "salut", "bonsoir", "coucou", "hola", "buenas", "buenos", "dias", "tardes", "hallo",
    "moin", "servus", "guten", "tag", "morgen", "ola", "oi", "bom", "dia", "boa", "tarde", "ciao",
    "buongiorno", "buonasera", "salve", "there", "all", "team",
}
_THANKS = {
    "thanks", "thank", "thx", "ty", "cheers", "merci", "gracias", "danke", "obrigado", "obrigada",
    "grazie", "you", "so", "much", "a", "lot", "great", "perfect", "awesome", "beaucoup", "muchas",
    "vielen", "dank", "schon", "mille", "muito", "many", "appreciate", "it", "ok", "okay", "cool",
    "nice", "super", "genial", "top", "that", "helped", "helps", "got", "perfecto", "parfait",
}
_BYES = {
    "bye", "goodbye", "cya", "see", "you", "later", "au", "revoir", "adios", "chao", "hasta", "luego",
    "tschuss", "tschau", "wiedersehen", "auf", "tchau", "ate", "logo", "arrivederci", "a", "presto",
    "have", "nice", "good", "day", "night", "bonne", "journee", "soiree", "take", "care",
}


def smalltalk_kind(text: str) -> str | None:
    """'greeting', 'thanks' or 'goodbye' when the whole message is small talk, else None."""
    words = _words(normalise(text))
    if not words or len(words) > 6:
        return None
    if words[0] in {"thanks", "thank", "thx", "ty", "cheers", "merci", "gracias", "danke", "obrigado",
                    "obrigada", "grazie", "appreciate"} and all(w in _THANKS for w in words):
        return "thanks"
    if all(w in _BYES for w in words) and any(w in {"bye", "goodbye", "cya", "revoir", "adios", "chao", "tschuss",
                                                    "tschau", "wiedersehen", "tchau", "arrivederci", "later"} for w in words):
        return "goodbye"
    if all(w in _GREETINGS for w in words) and words[0] in _GREETINGS - {"there", "all", "team", "dias", "tardes", "tag", "dia", "tarde"}:
        return "greeting"
    return None


def strip_greeting(text: str) -> str:
    """'Hi there, how do I reset my password?' -> 'how do I reset my password?'"""
    match = re.match(r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|bonjour|salut|hola|hallo|ciao|ola|olá|oi)"
                     r"( there| team| all)?\s*[,.!:;-]*\s*", text, flags=re.IGNORECASE)
    rest = text[match.end():] if match else text
    return rest if rest.strip() else text


_PROFANITY = {
    "fuck", "fucking", "fucked", "shit", "shitty", "crap", "crappy", "damn", "wtf", "ffs", "bullshit",
    "stupid", "idiot", "idiots", "useless", "pathetic", "ridiculous", "worst", "terrible", "horrible",
    "awful", "scam", "furious", "angry", "unacceptable", "disgusting",
    "merde", "putain", "inutile", "mierda", "joder", "inutil", "scheisse", "mist", "nutzlos",
    "porra", "merda", "cazzo", "schifo", "inutile",
}


def is_frustrated(text: str) -> bool:
    # Capitals or "???" alone are no anger: customers write ordinary product questions that way
    # (held-out support-bot queries). Shouting counts with an exclamation, "!!!" counts alone.
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    if shouting and "!" in text and len(text.split()) >= 3:
        return True
    if re.search(r"!{3,}|[!?]*![!?]*\?[!?]*!|[!?]*\?[!?]*![!?]*\?", text) and len(text.split()) >= 3:
        return True
    norm = normalise(text)
    if re.search(r"\b(c ?est|trop|vraiment) nul\b", norm):  # French "nul" is scorn; Dutch "nul" is zero
        return True
    if _SCORN_RE.search(norm):  # "what a joke": a joke or a garbage bill alone is no complaint
        return True
    words = _words(norm)
    return sum(1 for w in words if w in _PROFANITY) >= 1 and len(words) >= 2


_SCORN_RE = re.compile(r"\b(what a|such a|total|complete|absolute) (joke|garbage|rubbish|farce|trash)\b"
                       r"|\b(this|that|it|you|bot|service|site|app)( is|'s| are|'re)? (a |an )?(joke|garbage|rubbish|trash)$"
                       r"|\b(joke|garbage|rubbish|trash) of an? \w+"
                       r"|\b(are you|you) (kidding|joking)( me)?\b|\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time (i|that|now)\b")


_NOT_HELPFUL = re.compile(
    r"\b(did ?n'?t|does ?n'?t|did not|does not|not|no|never|wasn'?t|isn'?t) (help|helpful|work|answer|useful|it)\b"
    r"|\bnot what i (asked|meant|need|wanted)\b|\bwrong (answer|article)\b|\bthat'?s not it\b"
    r"|\bca (ne )?m'a pas aide\b|\bpas utile\b|\bno (me )?(ayudo|sirvio)\b|\bhat nicht geholfen\b"
    r"|\bnao ajudou\b|\bnon (mi )?ha aiutato\b|\bnon e utile\b"
)


def is_not_helpful(text: str) -> bool:
    return bool(_NOT_HELPFUL.search(normalise(text)))
