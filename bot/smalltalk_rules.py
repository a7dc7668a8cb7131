"""Small talk by rule, and the greeting in front of a question.

A whole message of small-talk words, with at least one that says which kind: "thanks a lot",
"merci beaucoup", "tot ziens", "sorry, wrong window", "haha", "👍". Mixed kinds take the one that
ends the exchange first ("ok thanks, bye" is a goodbye). "ok" or "yes" alone is no small talk:
it may answer "would you like to talk to a person?".
The word lists are in the seven languages Parley ships; bot/smalltalk.py catches paraphrases by meaning.
"""

from __future__ import annotations

import re
import unicodedata

from bot.text import _words, normalise


_ANCHORS: dict[str, set[str]] = {
    "goodbye": {"bye", "byebye", "goodbye", "cya", "later", "revoir", "adios", "chao", "tschuss", "tschau",
                "wiedersehen", "tchau", "arrivederci", "doei", "doeg", "ziens", "bientot", "luego", "logo", "presto",
                "ciao", "salut", "bald", "straks", "vemos", "vediamo", "weekend", "goodnight", "falou", "flw", "fui",
                "adieu", "ciauz", "tschoe", "tschö"},
    "thanks": {"thanks", "thank", "thx", "ty", "tnx", "thnx", "cheers", "merci", "gracias", "danke", "dankeschon",
               "obrigado", "obrigada", "valeu", "grazie", "bedankt", "dank", "dankjewel", "dankuwel", "appreciate",
               "appreciated", "thankyou", "vielen", "merciii", "graciass", "ringrazio", "brigado", "brigada", "agradezco",
               "agradeco", "ringraziamo", "bedank", "danku", "thanx", "merci", "mercii", "obrigadao", "obrigadinho",
               "graciasss", "grazieee", "dankjewel", "dankuwel", "danki"},
    "apology": {"sorry", "sry", "soz", "oops", "whoops", "oopsie", "wrong", "nevermind", "nvm", "typo", "pardon",
                "desole", "desolee", "excusez", "oups", "entschuldigung", "entschuldige", "ups", "falsches", "falscher",
                "vertippt", "perdon", "siento", "equivocada", "equivocado", "equivoque", "olvidalo", "scusa", "scusate",
                "scusami", "sbagliata", "sbagliato", "desculpa", "desculpe", "errada", "errado", "excuses", "verkeerd",
                "verkeerde", "foutje", "oeps", "disregard", "ignore", "mistake", "mal", "erreur", "errore", "erro",
                "fehler", "vergiss", "laat", "lascia", "deixa", "esquece", "laisse", "mind", "bad"},
    "greeting": {"hi", "hello", "hey", "heya", "hiya", "yo", "howdy", "hallo", "hoi", "moin", "servus", "gruezi",
                 "bonjour", "coucou", "bonsoir", "hola", "buenas", "buongiorno", "buonasera", "salve", "ola", "oi",
                 "goedemorgen", "goedemiddag", "goedenavond", "hee", "morning", "evening", "afternoon", "greetings",
                 "hellooo", "helloo", "heyy", "hii", "hiii", "morgen", "tag", "dias", "tardes", "noches", "dia",
                 "tarde", "noite", "bom", "boa", "guten", "goede", "gm", "eae", "eai", "opa", "ehi", "ehila", "hej",
                 "hallihallo", "hallöchen", "hallochen", "bonjoir", "holaa", "buondi"},
    "acknowledge": {"nice", "great", "perfect", "awesome", "cool", "super", "genial", "parfait", "top", "klasse",
                    "prima", "mooi", "ottimo", "fantastico", "perfecto", "perfeito", "otimo", "excellent", "amazing",
                    "brilliant", "wonderful", "fantastic", "lovely", "sweet", "neat", "wow", "helpful", "beleza",
                    "toll", "spitze", "klasse", "geil", "fantastique", "formidable", "estupendo", "fenomenal",
                    "bravo", "magnifique", "geweldig", "fijn", "gaaf", "tof", "grandioso", "maravilha", "bacana",
                    "legal", "show", "chido", "vale", "okidoki", "alright", "ottima", "bellissimo", "magnifico",
                    "lol", "lmao", "rofl", "mdr", "xd", "good", "gut", "bien", "bene", "bom", "goed", "klar", "perfekt",
                    "perfetto", "perfetta", "exzellent", "genau", "ausgezeichnet", "uitstekend", "excelente", "ottimo"},
}
_SMALL_WORDS = {
    "there", "all", "team", "everyone", "everybody", "guys", "folks", "zusammen", "tout", "le", "monde", "todos",
    "a", "tutti", "pessoal", "allemaal", "iedereen", "you", "so", "much", "lot", "very", "many", "it", "ok", "okay",
    "oke", "k", "kk", "that", "this", "was", "is", "s", "that's", "thats", "for", "your", "the", "help", "helped",
    "helps", "got", "beaucoup", "muchas", "muchisimas", "mil", "schon", "sehr", "mille", "tante", "muito", "muita",
    "je", "wel", "well", "hartelijk", "heel", "erg", "tausend", "pour", "l", "aide", "por", "la", "ayuda", "per",
    "aiuto", "pela", "ajuda", "voor", "hulp", "fur", "die", "hilfe", "alles", "again", "anyway", "see", "au", "hasta",
    "pronto", "ate", "have", "day", "night", "bonne", "journee", "soiree", "take", "care", "schonen", "noch", "abend",
    "fijne", "dag", "nog", "buona", "giornata", "serata", "que", "tengas", "tenga", "un", "buen", "tenha", "um",
    "one", "mate", "buddy", "man", "dude", "i", "m", "im", "i'm", "done", "bis", "dann", "tot", "zo", "nos", "ci",
    "my", "window", "chat", "tab", "screen", "conversation", "person", "message", "meant", "never", "what", "ich",
    "habe", "hab", "mich", "falsch", "fenster", "wrong", "mauvaise", "fenetre", "mauvais", "de", "ma", "part",
    "moi", "lo", "me", "ventana", "chat", "equivoque", "finestra", "mio", "mia", "foi", "janela", "venster",
    "hoor", "maar", "zitten", "stare", "perdere", "pra", "es", "gut", "ja", "yes", "yeah", "yep", "oui", "si", "sim",
    "jep", "stuff", "job", "work", "thing", "answer", "info", "information", "d", "und", "and", "et", "y", "e", "en",
    "o", "ou", "or", "how", "are", "r", "u", "doing", "going", "wie", "gehts", "geht", "s", "ca", "va", "como",
    "estas", "tal", "come", "stai", "tudo", "bem", "hoe", "gaat", "het", "really", "just", "now", "well", "bien",
    "tres", "trop", "molto", "muy", "todo", "alles", "tutto", "dir", "ihnen", "euch", "vous", "te", "ti", "lhe",
    "jullie", "u", "mal", "sehr", "vraiment", "merci", "pas", "grave", "igual", "da", "niente", "nada", "disso",
    "nice", "one", "ones", "thanks", "omg", "haha", "x", "xx", "nacht", "gute", "noite", "boa", "buenos", "buenas",
    "dias", "idea", "ideia", "glad", "happy", "love", "it", "this", "friendly", "kind", "sympa", "amable", "gentile",
    "gentil", "vriendelijk", "nett", "lieb", "are", "an", "ai", "robot", "bot", "real", "human", "ya", "re", "das",
    "hilft", "auf", "einem", "einer", "ein", "eine", "een", "une", "una", "uma", "roboter", "robo", "ki", "ia", "mens",
    "mensch", "humain", "humano", "umano", "intelligenza", "artificiale", "artificial", "kunstmatige",
    "intelligentie", "maschine", "computer", "machine", "echt", "wirklich", "hier", "with", "to", "oh", "ah", "uy",
    "ops", "tomber", "meu", "minha", "mein", "meine", "mon", "mijn", "hey", "aw", "ooh", "bunch", "funny", "vielmals",
    "spater", "tous", "infiniment", "plus", "nuevo", "ehi", "daar", "again", "nochmal", "encore", "novo", "ancora",
    "opnieuw", "weer", "toi", "dich", "hilarious", "cute", "nossa", "vez", "volta", "crack", "davvero", "hoor",
    "mesmo", "verdad", "vero", "echter", "echte", "echten", "vrai", "vraiment", "really", "about", "daarvoor", "dafur",
    "eso", "isso", "ca", "prima", "mais", "dann", "later", "proper", "actual", "legit",
}
_LAUGHTER_RE = re.compile(r"^(?:a?(?:ha|he|hi|ho|ja|je|ji|ah|eh|ih|hah|heh)+h?|k{3,}|(?:rs)+|(?:lol)+z?|lo+l|xd+|mdr+|ptdr|jaja\w*)$")
# "are you a bot?", "am i talking to a robot lol", "bist du ein Bot", "ben je een bot?", "is this automated"
_BOT_QUESTION_RE = re.compile(
    r"\b(are|r) (you|u) (a |an |really |actually |even |just )*(bot|robot|human|real|ai|a\.i|person|machine|computer|"
    r"chatbot|automated|alive|live|program)\b|\bam i (talking|speaking|chatting|texting) (to|with)\b|\bwho am i (talking|speaking|chatting)"
    r"|\bis (this|it|that) (a |an )?(bot|robot|real|human|person|automated|ai|chatbot|machine|computer|live)\b|\bwho are you\b"
    r"|\bwhat are you\b|\b(bist du|sind sie|bist du eigentlich) (ein |eine |echt|wirklich |echter |echte |nur )*(bot|roboter|mensch|ki|echt|maschine|computer|chatbot)"
    r"|\b(rede|spreche|schreibe|chatte) ich (mit|hier mit)\b|\bist das (ein |eine )?(bot|roboter|mensch|ki|chatbot)\b"
    r"|\b(es tu|tu es|etes vous|vous etes|t es) (un |une )?(robot|bot|humain|humaine|ia|vrai|vraie|machine)\b|\bje parle (a|avec) (un|une)\b"
    r"|\bc est (un|une) (robot|bot|ia|humain|vraie)\b|\beres (un |una )?(bot|robot|humano|humana|ia|persona|real|maquina)\b"
    r"|\bes usted (un |una )?(bot|robot|humano|humana|persona)\b|\bestoy hablando con\b|\bsei (un |una |un )?(bot|robot|umano|umana|vero|vera|reale|persona|intelligenza)"
    r"|\bsto parlando con\b|\b(voce|vc|tu) (e|eh) (um |uma )?(robo|bot|humano|humana|ia|pessoa|real|maquina)\b|\bestou falando com\b"
    r"|\b(e|eh) (um|uma) (robo|bot|ia)\b|\b(ben|bent) (je|jij|u) (een |echt |echte |soms )*(bot|robot|mens|ai|computer|echt)\b"
    r"|\b(praat|spreek|chat) ik (met|hier met)\b|\bis dit (een )?(bot|robot|mens|ai|computer)\b")
_SMALLTALK_PHRASES = [(re.compile(p), w) for p, w in [
    (r"^(hey|hi|hallo|hola|holi|hoi|helo|hello|ola|oi)+[yoa]*(tjes)?$", "hello"),
    (r"\bbis (dann|spater|morgen|bald)\b|\bate (mais|amanha|breve|logo)\b|\btot (later|straks|morgen|zo)\b"
     r"|\bci vediamo\b|\bnos vemos\b|\ba plus( tard)?\b", "bye"),
    (r"\bsee (you|ya|u)( later| soon| around)?\b|\bhave a (nice|good|great|lovely) (day|evening|weekend|one)\b", "bye"),
    (r"^a (plus|plus tard|\+|toute|bientot|demain)$|\bbonne (journee|soiree|fin de journee)\b|\bbon (week ?end|apres midi)\b", "revoir"),
    (r"\bbuona (giornata|serata)\b|\bbuon (pomeriggio|fine settimana)\b", "arrivederci"),
    (r"\b(fijne|prettige|goede) (dag|avond|middag|weekend)\b", "doei"),
    (r"\bschonen (tag|abend|sonntag|feierabend|wochenende)\b", "tschuss"),
    (r"\b(que )?(tengas|tenga) (un )?(buen|bonito|lindo) (dia|fin de semana)\b", "adios"),
    (r"\btenha um (bom|otimo) dia\b|\bbom fim de semana\b", "tchau"),
    (r"^(how are (you|u)( doing| today)?|how s it going|whats up|what s up|sup)$", "hello"),
    (r"^(wie geht s|wie gehts|wie geht es (dir|ihnen))$", "hallo"), (r"^(ca va|comment ca va|comment allez vous)$", "salut"),
    (r"^(que tal|como estas|como esta)$", "hola"), (r"^(come stai|come va)$", "ciao"),
    (r"^(tudo bem|tudo bom|como vai)$", "oi"), (r"^(hoe gaat het|alles goed)$", "hoi"),
]]
_NEGATIVE_EMOJI = set("😡🤬👎😠😤💩😞😢😭🙁☹😒🖕")


def smalltalk_kind(text: str) -> str | None:
    """The kind of small talk a whole message is ('greeting', 'thanks', 'goodbye', 'bot_question',
    'apology' or 'acknowledge'), else None. Questions with a greeting ('hi, where is my order?') are
    no small talk; 'ok' alone is none either."""
    stripped = text.strip()
    if not stripped or len(stripped) > 120:
        return None
    if not any(c.isalnum() for c in stripped):  # emoji only: "👍", "🙂🙂"; not "😡" or "???"
        symbols = [c for c in stripped if unicodedata.category(c) in ("So", "Sk")]
        if symbols and not any(c in _NEGATIVE_EMOJI for c in symbols):
            return "acknowledge"
        return None
    norm = normalise(text).replace("'", " ")
    for pattern, word in _SMALLTALK_PHRASES:
        norm = pattern.sub(word, norm)
    words = _words(norm)
    if not words or len(words) > 10:
        return None
    if len(words) <= 10 and _BOT_QUESTION_RE.search(norm):
        rest = _words(_BOT_QUESTION_RE.sub(" ", norm))
        if all(w in _SMALL_WORDS or _LAUGHTER_RE.match(w) or any(w in a for a in _ANCHORS.values()) for w in rest):
            return "bot_question"
    if len(words) > 8:
        return None
    vocabulary = set().union(*_ANCHORS.values()) | _SMALL_WORDS
    if not all(w in vocabulary or _LAUGHTER_RE.match(w) for w in words):
        if _is_apology(words[:1]) and len(words) <= 4 and any(w.startswith(_ERROR_STEMS) for w in words[1:]):
            return "apology"  # "sorry, vertan", "perdona, me equivoqué", "desculpa, errei"
        return None
    present = [kind for kind, anchors in _ANCHORS.items() if any(w in anchors for w in words)]
    if not present and _is_apology(words[:1]) and len(words) <= 4 and any(
            w.startswith(_ERROR_STEMS) for w in words[1:]):
        return "apology"  # "sorry, vertan", "perdona, me equivoqué", "desculpa, errei"
    if "apology" in present and not _is_apology(words):
        present.remove("apology")
    if "goodbye" in present and "greeting" in present and not any(
            w in {"bye", "goodbye", "cya", "revoir", "tschuss", "wiedersehen", "doei", "ziens", "arrivederci", "adios",
                  "tchau", "later"} for w in words):
        present.remove("goodbye")  # "ciao", "salut": hello at the start
    if not present:
        return "acknowledge" if any(_LAUGHTER_RE.match(w) for w in words) else None
    return present[0]


_ERROR_STEMS = ("vertan", "vertipp", "getypt", "equivo", "err", "sbagli", "tromp", "typo", "mistake", "wrong", "verkeerd",
                "falsch", "fout", "vergis", "irr", "mist", "confund", "confus", "engan")


def _is_apology(words: list[str]) -> bool:
    """'sorry', 'wrong window', 'my bad', 'never mind', 'laat maar'; not 'wrong' or 'bad' alone."""
    text = " ".join(words)
    return bool(re.search(
        r"\b(sorry|sry|soz|oops|whoops|oopsie|nevermind|nvm|typo|pardon|desolee?|excusez|oups|entschuldig\w*|ups|vertippt"
        r"|perdon|perdona|perdone|siento|uy|ops|equivoqu\w*|olvidalo|scus\w*|desculp\w*|excuses|foutje|oeps|disregard)\b"
        r"|\bwrong (window|chat|tab|screen|conversation|person|message)\b|\bmy (bad|mistake)\b|\bnever ?mind\b"
        r"|^(sorry|desole|perdon|scusa|desculpa|entschuldigung) (about|for|pour|por|per|dafur|daarvoor) ?(that|this|ca|eso|isso|prima)?$"
        r"|\bignore (that|this|it|me)\b|\b(falsch\w*) (fenster|chat)\b|\bvergiss es\b|\bschon gut\b"
        r"|\b(mauvaise|mauvais) (fenetre|chat|onglet)\b|\berreur de ma part\b|\blaisse tomber\b|\bpas grave\b"
        r"|\b(ventana|chat) equivocad[oa]\b|\bda igual\b|\b(finestra|chat) sbagliat[oa]\b|\berrore mio\b|\blascia (stare|perdere)\b"
        r"|\b(janela|chat) errad[oa]\b|\bfoi mal\b|\berro meu\b|\bdeixa (pra|para) (la|lá)\b|\besquece\b"
        r"|\bverkeerde? (venster|chat|scherm)\b|\blaat maar\b", text))


def strip_greeting(text: str) -> str:
    """'Hi there, how do I reset my password?' -> 'how do I reset my password?'"""
    match = re.match(r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|bonjour|bonsoir|salut|hola|buenas|"
                     r"buen[oa]s (d[ií]as|tardes|noches)|hallo|moin|servus|guten (tag|morgen|abend)|ciao|buongiorno|"
                     r"buonasera|salve|ola|olá|oi|bom dia|boa (tarde|noite)|hoi|goedemorgen|goedemiddag|goedenavond)"
                     r"( there| team| all| zusammen| à tous| a todos| a tutti| allemaal)?\s*[,.!:;-]*\s*", text,
                     flags=re.IGNORECASE)
    rest = text[match.end():] if match else text
    return rest if rest.strip() else text
