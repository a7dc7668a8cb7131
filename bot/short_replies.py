"""Short messages that carry no question: a yes or a no to what the bot just asked, a customer
checking someone is there, and fillers ("hmm", "one sec", "?").

Without these, "hmm" got "Sorry, I don't have an article that answers that" and counted as a
failure, so "hmm" then "k" handed the chat to the queue as a repeated failure; and a "no" to "Would
you like to talk to a person?" handed it over too, while a "yes" reached a person only by counting
as a second failure. In English, German, French, Spanish, Italian, Portuguese and Dutch.
"""

from __future__ import annotations

import re

from bot.text import normalise

_YES = {
    "yes", "yeah", "yea", "yep", "yup", "ya", "sure", "ok", "okay", "oke", "okey", "k", "kk", "please", "pls", "plz",
    "yes please", "yes pls", "ok please", "sure please", "yes i would", "yes i do", "i would", "i do", "yes sure",
    "of course", "definitely", "absolutely", "go ahead", "why not", "ok sure", "yeah sure", "sounds good",
    "ja", "ja bitte", "jawohl", "gerne", "gern", "bitte", "ja gerne", "ja gern", "klar", "na klar", "ok bitte",
    "oui", "oui merci", "oui s il vous plait", "oui svp", "volontiers", "d accord", "ouais", "bien sur",
    "si", "si por favor", "claro", "vale", "por favor", "de acuerdo", "claro que si",
    "si grazie", "certo", "va bene", "si per favore", "volentieri", "per favore",
    "sim", "sim por favor", "pode ser", "quero", "sim quero", "com certeza", "pode",
    "jawel", "ja graag", "graag", "prima", "goed", "is goed", "ja hoor", "zeker", "ja alstublieft", "ja alsjeblieft",
}
_NO = {
    "no", "nope", "nah", "no thanks", "no thank you", "no thx", "no ty", "not now", "not yet", "no need",
    "no i m fine", "i m fine", "im fine", "i m good", "im good", "no i m good", "not really", "no way",
    "nein", "nein danke", "nee", "noe", "nicht notig", "non", "non merci", "pas besoin", "pas maintenant",
    "no gracias", "no hace falta", "ahora no", "no grazie", "non serve", "nao", "nao obrigado", "nao obrigada",
    "agora nao", "nee dank je", "nee bedankt", "hoeft niet", "niet nodig", "nu niet",
}
_PRESENCE_RE = re.compile(
    r"^(hello |hi |hey |hallo |allo |ola |hola |ciao |yo )?((is )?(any ?one|any ?body|some ?one|some ?body) (there|here|around|home)"
    r"|(are )?(you|u) (still )?(there|here|around|awake)|anyone|anybody|hello+ anyone|still there"
    r"|(ist )?(da|hier) (noch )?(jemand|wer)|(sind sie|bist du) (noch )?da|hallo\w* (jemand )?da"
    r"|(il )?(y a|ya) (t il )?quelqu un( la| ici)?|(vous etes|tu es|t es) (toujours )?la|quelqu un"
    r"|(hay )?alguien( ahi| ahi| ahi| por ahi)?|(sigue|sigues|esta|estas) (ahi|ahí)|(c e )?qualcuno( li| c e)?|ci sei|ci siete"
    r"|(tem )?alguem( ai| ai)?|(voce|vc|tu) (ainda )?(esta|ta|estas) (ai|ai)|(is )?(daar |er )?iemand( daar| aanwezig)?|(ben je|bent u) (er )?(nog )?(daar|er))$")
_FILLER = {
    "hm", "hmm", "hmmm", "hmmmm", "ahm", "aehm", "ahem", "oeh", "uhh", "ehh", "mm", "mmm", "mhm", "uh", "uhm", "um",
    "umm", "erm", "er", "eh", "ehm", "ah", "oh", "huh", "meh", "well", "so", "right", "i see", "ok i see",
    "oh i see", "ah ok", "oh ok", "wait", "wait a sec", "one sec", "one second", "a sec", "sec", "just a sec",
    "one moment", "a moment", "just a moment", "hold on", "hang on", "brb", "test", "testing", "test test", "hm ok",
    "ok so", "so um", "fine", "no worries", "np", "aha", "ahh", "oh well", "alright then", "ok then", "mmk", "mkay",
    "ah so", "achso", "ach so", "aha ok", "moment", "einen moment", "moment bitte", "warte", "sekunde", "tja",
    "na ja", "naja", "also", "ah bon", "bon", "bof", "euh", "ben", "attends", "un instant", "une seconde",
    "un moment", "pues", "bueno", "este", "espera", "un momento", "un segundo", "momento", "vale vale", "allora",
    "boh", "mah", "beh", "aspetta", "un attimo", "un secondo", "ne", "entao", "pois", "tipo", "espera ai",
    "so um minuto", "um momento", "um segundo", "nou", "wacht", "even", "momentje", "ogenblik", "ja ja", "nou ja",
}


def _norm(text: str) -> str:
    return normalise(text).replace("'", " ").strip()


def yes_or_no(text: str) -> str | None:
    """'yes' or 'no' where the whole message is one ("yes please", "nein danke", "nao"), else None."""
    norm = _norm(text)
    if norm in _YES:
        return "yes"
    if norm in _NO:
        return "no"
    return None


def short_kind(text: str, last_action: str | None = None) -> str | None:
    """'presence' ("anyone there?"), 'acknowledge' (a yes after an answer), 'filler' ("hmm", "one
    sec", "?", a yes or no out of context), else None."""
    stripped = text.strip()
    if not stripped or len(stripped) > 60:
        return None
    norm = _norm(stripped)
    if not norm:  # "?", "...", "??": only punctuation
        return "filler" if set(stripped) <= set("?!.…¿¡ ") else None
    if _PRESENCE_RE.match(norm):
        return "presence"
    answer = yes_or_no(stripped)
    if answer == "yes" and last_action == "answer":
        return "acknowledge"
    if answer is not None or norm in _FILLER:
        return "filler"
    return None
