"""The customer is unhappy: frustrated, or saying the answer did not help.

Frustration: swearing counts anywhere; scorn ("useless", "lächerlich", "belachelijk") when it is
said of something, not when it names a thing ("return a useless gadget"); anger when the customer
says they are angry ("I'm really angry", "ich bin echt sauer"). Capitals or "???" alone are no
anger, and the Dutch "nul" is zero.
"""

from __future__ import annotations

import re

from bot.text import _words, normalise


_SWEARING = {
    "fuck", "fucking", "fucked", "fck", "shit", "shitty", "crap", "crappy", "damn", "damned", "wtf", "ffs", "bullshit",
    "merde", "putain", "bordel", "mierda", "joder", "puta", "scheisse", "scheiss", "verdammt", "verdammte",
    "porra", "merda", "caralho", "cazzo", "cavolo", "kut", "klote", "godverdomme", "verdomme", "tering", "kanker",
}
_SCORN = {
    "useless", "pathetic", "ridiculous", "terrible", "horrible", "awful", "worst", "stupid", "idiot", "idiots",
    "unacceptable", "disgusting", "incompetent", "scam", "joke", "garbage", "rubbish", "trash", "outrageous",
    "lacherlich", "nutzlos", "unverschamt", "frechheit", "unmoglich", "katastrophe", "katastrophal", "miserabel",
    "inakzeptabel", "zumutung", "schlechteste", "unfahig", "betrug", "witz",
    "inutile", "inutiles", "ridicule", "inadmissible", "inacceptable", "honteux", "honteuse", "lamentable",
    "scandaleux", "scandaleuse", "incompetents", "arnaque", "pire", "nulle",
    "ridiculo", "inutil", "inutiles", "inaceptable", "verguenza", "vergonzoso", "penoso", "pesimo", "pesima",
    "asco", "estafa", "incompetentes",
    "ridicolo", "inutili", "inaccettabile", "vergogna", "vergognoso", "pessimo", "pessima", "schifo", "assurdo",
    "truffa", "incompetenti",
    "inuteis", "inaceitavel", "vergonha", "vergonhoso", "porcaria", "absurdo", "lixo", "palhacada", "golpe",
    "belachelijk", "nutteloos", "waardeloos", "onacceptabel", "schandalig", "schande", "bagger", "oplichting",
    "oplichters", "onzin", "idioot", "dom", "hopeless", "hoffnungslos", "schlechtester", "schlechtesten",
    "waardeloze", "nutteloze", "belachelijke", "schandalige", "lacherliche", "nutzlose", "inutili",
}
_NOT_SCORN_RE = re.compile(r"\b(worst|best) case\b|\bat (the )?worst\b|\b(fool|stupid|idiot) ?proof\b")
_SCORN_NOUNS = {"frechheit", "zumutung", "unverschamtheit", "verguenza", "vergogna", "vergonha", "schande", "honte",
                "disgrace", "katastrophe", "catastrophe", "desastre", "disastro"}
_FEELINGS = {
    "angry", "furious", "mad", "pissed", "annoyed", "frustrated", "livid", "upset", "sauer", "wutend", "verargert",
    "genervt", "stinksauer", "boos", "kwaad", "woedend", "geergerd", "furieux", "furieuse", "enerve", "enervee",
    "agace", "agacee", "enfadado", "enfadada", "enojado", "enojada", "furioso", "furiosa", "cabreado", "cabreada",
    "arrabbiato", "arrabbiata", "incazzato", "incazzata", "irritado", "irritada", "bravo", "brava", "puto", "puta",
    "chateado", "chateada", "irritato", "irritata",
}
_INTENSIFIERS = {
    "am", "m", "so", "very", "really", "getting", "bin", "echt", "sehr", "total", "suis", "tres", "vraiment",
    "estoy", "muy", "super", "sono", "molto", "davvero", "estou", "muito", "to", "ben", "erg", "heel", "zo", "word",
    "wirklich", "ziemlich", "extremely", "absolutely", "completely", "getting", "estamos", "siamo", "sommes", "zijn",
    "sind", "tan", "cosi", "tao", "bastante",
}
_ARTICLES = {"a", "an", "un", "une", "ein", "eine", "einen", "einem", "een", "uno", "una", "um", "uma"}
_EXCLAIM = {"what", "such", "quel", "quelle", "que", "qué", "che", "wat", "was", "so", "welch", "quelle", "quanta"}
_FED_UP_RE = re.compile(
    r"\bwaste of (my )?time\b|\bzeitverschwendung\b|\bperte de temps\b|\bperdida de tiempo\b|\bperdita di tempo\b"
    r"|\bperda de tempo\b|\btijdverspilling\b|\b(ihr seid|du bist|das ist|sie sind|ist das)( echt| wirklich| doch| ja)* das letzte\b"
    r"|\b(das ist|ist das)( doch| echt| ja)* (ein )?witz\b|\b(totaler|kompletter|nur|alles) mist\b"
    r"|\bfed up\b|\bsick (of|and tired)\b|\b(i ve|i have|we ve|we have) had enough\b(?! (money|funds|cash|balance|credit))"
    r"|\bhad enough of (this|you|it|that|your)\b|\ben ai marre\b|\bras le bol\b|\bn importe quoi\b"
    r"|\b(estoy|me tienes|me teneis|estamos) (harto|harta|hartos)\b|\btomando el pelo\b|\btomais el pelo\b"
    r"|\bsono (stufo|stufa|stufi)\b|\bprend(i|ete) in giro\b|\bche palle\b|\b(estou|to|tou|estamos) (farto|farta|fartos)\b"
    r"|\bde brincadeira\b|\bben het zat\b|\bslaat nergens op\b|\bnase voll\b|\breicht (mir|jetzt)\b|\bdas reicht\b"
    r"|\b(so ein|was fur ein) mist\b|^mist$|\bc est une blague\b|\bes una broma\b|\be uno scherzo\b"
    r"|\b(dritte|vierte|funfte|x te|zigste)n? mal\b|\b(troisieme|quatrieme|trois|quatre) fois\b"
    r"|\b(tercera|cuarta|quinta) vez\b|\b(terza|quarta|quinta) volta\b|\b(terceira|quarta|quinta) vez\b"
    r"|\b(derde|vierde|vijfde) keer\b|\b(c ?est|trop|vraiment|completement|totalement) nul(le)?\b"
)


def is_frustrated(text: str) -> bool:
    # Capitals or "???" alone are no anger: customers write ordinary product questions that way
    # (held-out support-bot queries). Shouting counts with an exclamation, "!!!" counts alone.
    text = text[:1000]  # anger shows in the first thousand characters; the cost stays bounded
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    if shouting and "!" in text and len(text.split()) >= 3:
        return True
    if re.search(r"!{3,}|[!?]*![!?]*\?[!?]*!|[!?]*\?[!?]*![!?]*\?", text) and len(text.split()) >= 3:
        return True
    norm = _NOT_SCORN_RE.sub(" ", normalise(text).replace("'", " "))
    if _FED_UP_RE.search(norm) or _SCORN_RE.search(norm):
        return True
    words = _words(norm)
    for i, word in enumerate(words):
        if word in _SWEARING and len(words) >= 2:
            return True
        if word in _SCORN_NOUNS:
            return True  # "das ist eine Frechheit", "es una vergüenza", "wat een schande"
        if word in _SCORN and word not in {"joke", "garbage", "rubbish", "trash", "witz", "schifo", "asco", "scam"}:
            before = words[max(0, i - 2):i]
            if before and before[-1] in _ARTICLES and not any(w in _EXCLAIM for w in before):
                continue  # "return a useless gadget", "a terrible mistake"; but "what a terrible service"
            if before and before[-1] in {"not", "nicht", "pas", "no", "non", "nao", "niet", "geen"}:
                continue  # "not ridiculous"
            return True
        if word in _FEELINGS and any(w in _INTENSIFIERS or w == "i" for w in words[max(0, i - 3):i]):
            return True  # "I'm really angry", "ich bin echt sauer", "je suis furieux"; not "angry birds"
    return False


_SCORN_RE = re.compile(r"\b(what a|such a|total|complete|absolute) (joke|garbage|rubbish|farce|trash)\b"
                       r"|\b(this|that|it|you|bot|service|site|app)( is| s| are| re|s|re)? (a |an )?(joke|garbage|rubbish|trash)$"
                       r"|^(this|it|that|you|this service|das|das ist|c est|esto|esto es|questo|questo e|e|isso|isso e|dit|dit is)"
                       r"( is| are| s| re| ist| sind| es| e| est| zijn)? (a |an |ein |eine |une |una |uno |um |uma |een )?"
                       r"(scam|fraud|rip ?off|betrug|abzocke|arnaque|escroquerie|estafa|timo|truffa|fregatura|golpe|roubo"
                       r"|oplichting|zwendel)$"
                       r"|\b(what a|such a|so ein|was fur ein|wat een|quel|quelle|que|che|que) (bad|poor|lousy|crap|shit|schlechter"
                       r"|mieser|slechte|beroerde|mauvais|mauvaise|malo|mala|mal|pessimo|pessima|cattivo|ruim|pessimo|mierda)\b"
                       r"|\b(joke|garbage|rubbish|trash) of an? \w+"
                       r"|\b(are you|you) (kidding|joking)( me)?\b|\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time (i|that|now)\b"
                       r"|\b(che|que|qué|quel|quelle) (schifo|asco)\b|\b(fa|da|me da) (schifo|asco)\b|\bwas fur ein witz\b")


_NOT_HELPFUL = re.compile(
    r"\b(did ?n'?t|does ?n'?t|did not|does not|not|no|never|wasn'?t|isn'?t) (help|helpful|work|answer|useful|it)\b"
    r"|\bnot what i (asked|meant|need|wanted)\b|\bwrong (answer|article)\b|\bthat'?s not it\b"
    r"|\bca (ne )?m'a pas aide\b|\bpas utile\b|\bno (me )?(ayudo|sirvio)\b|\bhat nicht geholfen\b"
    r"|\bnao ajudou\b|\bnon (mi )?ha aiutato\b|\bnon e utile\b"
    r"|\b(ca|cela) (ne )?(m'?aide|aide) pas\b|\bce n'?est pas (ca|ma question|ce que je)\b|\bpas ce que je (cherche|demande)\b"
    r"|\bno (me )?(ayuda|sirve)\b|\bno es (eso|lo que (busco|pregunte))\b"
    r"|\b(hilft|half) (mir )?nicht\b|\bbringt (mir )?nichts\b|\b(das )?ist nicht (das|was ich)\b|\bfalsche antwort\b"
    r"|\bnon (mi )?(aiuta|serve)\b|\bnon e (questo|quello che)\b|\brisposta sbagliata\b"
    r"|\bnao (me )?(ajuda|serve)\b|\bnao e (isso|o que)\b|\bresposta errada\b"
    r"|\b(dat|dit|het) (helpt|hielp|heeft) (me )?niet\b|\b(heeft|hebben) (me )?niet geholpen\b|\bniet (nuttig|behulpzaam)\b"
    r"|\bdat is (het )?niet (wat ik|het)\b|\bverkeerd (antwoord|artikel)\b|\bklopt niet\b"
    r"|\brespuesta (equivocada|incorrecta)\b|\bmauvaise reponse\b"
)


def is_not_helpful(text: str) -> bool:
    return bool(_NOT_HELPFUL.search(normalise(text)))
