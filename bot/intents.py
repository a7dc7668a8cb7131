"""Recognisers for what the customer says about the conversation itself, not about the articles.

Plain functions over text, in English, German, French, Spanish, Italian, Portuguese and Dutch
(slang and typos included): requests for a person, small talk, frustration, and "that didn't help".
tests/fixtures/intents_dev.json is their development set (tests/test_bot_dev_set.py holds the
figures; `python -m tests.intents_report` prints them).
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


# --- Requests for a person ------------------------------------------------------------------
#
# A request names someone to talk to (a target: "agent", "a person", "customer service") and asks
# for them: a verb of talking or connecting, or of wanting, next to it with only small words
# between ("speak to a real person", "mit einem Mitarbeiter sprechen", "een medewerker spreken");
# or the target alone with "please" ("agent pls", "Mitarbeiter bitte"); or a phone number, a
# callback, "is there a human", "not a bot". Ordinary questions name people too ("add a person to
# my account", "agent fees", "Customer support languages", "transfer my plan to someone else"):
# there the word between the verb and the person is not a small word, or there is no such verb.

# Phrases made one token before matching (accent-free, lower-case).
_COMPOUNDS = [
    (r"\bcustomer (service|support|care|services)\b", "customerservice"),
    (r"\bservices? (client|clients|clientele|consommateurs)\b", "customerservice"),
    (r"\b(servicio|atencion|soporte) (al|a) (cliente|clientes)\b", "customerservice"),
    (r"\bservizio clienti\b|\bassistenza clienti\b", "customerservice"),
    (r"\batendimento (ao|a) (cliente|clientes|consumidor)\b|\bservico (ao|de atendimento ao) cliente\b", "customerservice"),
    (r"\bhuman (being|beings)\b|\bhuman person\b", "human"),
    (r"\b(service|support|help ?desk) (agent|agents|rep|reps|representative|representatives|staff)\b", "agent"),
    (r"\bpersonliche[n]? (beratung|betreuung|hilfe)\b|\bpersoonlijke? (advies|hulp|contact|begeleiding)\b", "agent"),
    (r"\bhuman (assistance|contact)\b|\bmenschliche[n]? (hilfe|beratung|kontakt)\b|\bassistance humaine\b"
     r"|\batencion humana\b|\batendimento humano\b|\bassistenza umana\b|\bmenselijke? (hulp|contact)\b", "human"),
    (r"\b(someone|somebody|anyone|jemand(en|em)?|iemand|quelquun|alguien|alguem|qualcuno) (from|at|in|of|on|vom|von|aus|van|bij"
     r"|de|du|del|da|do|di|dal|della|dell|dalla) (the |your |der |dem |de |het |la |le |il |el |o |a |l |ihrem |jullie )?"
     r"(customerservice|support|team|staff|sales|kundenservice|kundendienst|klantenservice|equipe|equipo|soporte|suporte"
     r"|assistenza|atendimento|servicio|service|servizio|servico)\b", "agent"),
    (r"\betres? humains?\b|\bser(es)? humanos?\b|\besser(i|e) uman[oi]\b", "human"),
    (r"\bquelqu ?un\b", "quelquun"),
    (r"\bun ?altra persona\b|\baltra persona\b|\bqualcun altro\b", "otherperson"),
    (r"\b(someone|somebody|anyone) else\b|\b(another|other|different) (person|people|user)\b", "otherperson"),
    (r"\bquelquun d ?autre\b|\b(autre|autres) personnes?\b", "otherperson"),
    (r"\b(otra|otras) personas?\b|\balguien mas\b|\b(outra|outras) pessoas?\b|\boutro alguem\b", "otherperson"),
    (r"\b(andere[nrm]?) (person|personen|mensch|menschen|nutzer)\b|\bjemand(en|em)? (anderen?|anderem|anders)\b", "otherperson"),
    (r"\b(ander|andere) (persoon|personen|mens|mensen|gebruiker)\b|\biemand anders\b", "otherperson"),
    (r"\bhuman (resources|rights|error|nature|body|readable)\b|\bressources humaines\b|\brecursos humanos\b"
     r"|\brisorse umane\b|\bhuman ?resources\b", "hr"),
    (r"\b(travel|estate|sales|insurance|booking|user|secret|free) agents?\b|\breal estate\b", "otheragent"),
    (r"\bagents? (immobiliers?|commerciale?s?|de voyages?|inmobiliarios?|comercial(es)?|di commercio|immobiliari)\b",
     "otheragent"),
    (r"\bcall ?cent(er|re|ers|res)\b", "callcenter"),
    (r"\b(support|service) ?(team|equipe)\b|\b(equipo|equipe|squadra|equipa|team) (de |di |du |do |da |del |dell )?"
     r"(soporte|suporte|support|assistenza|atendimento|atencion al cliente|servizio clienti|service client)\b", "supportteam"),
    (r"\bmi colleghi\b", "mettimi"), (r"\bprendre le relais\b", "takeover"), (r"\btake over\b", "takeover"),
    (r"\b(would|d|i d|should) like\b", "wouldlike"),
    (r"\b(ich|er|sie|man|wir) will\b", "ichwill"),
    (r"\b(do|does|will|would) (i|we) (have|need) to\b|\bshould (i|we)\b|\bmust (i|we)\b|\bmuss ich\b|\bmoet ik\b"
     r"|\bdois je\b", "mustiquestion"),
    (r"\b(need|want|wanna|wouldlike|would like) to (know|ask|check|see|understand|find out)\b", "wonder"),
    (r"\bcontact ?(person|persons|people)\b|\bkontakt ?person(en)?\b|\bpersonnes? (de|a) contact(er)?\b"
     r"|\bpersonas? de contacto\b|\bpessoas? de contato\b|\bpersone? di (contatto|riferimento)\b", "contactperson"),
    (r"\bnodig\b(?=(?: \w+){0,5} uit\b)", "uitnodig"),
    (r"\b(per|pro|par|por) (person|persoon|personne|persona|pessoa|persone|pessoas)\b", "perhead"),
]
_COMPOUND_RES = [(re.compile(p), r) for p, r in _COMPOUNDS]

# Someone who helps customers, in any of the seven languages.
_HELPERS = {
    "human", "humans", "agent", "agents", "representative", "representatives", "rep", "reps", "operator",
    "operators", "supervisor", "advisor", "adviser", "consultant", "customerservice", "humain", "humaine",
    "humains", "conseiller", "conseillere", "conseillers", "operateur", "operatrice", "humano", "humana",
    "humanos", "agente", "agentes", "asesor", "asesora", "operador", "operadora", "encargado", "encargada",
    "mensch", "menschen", "menschlichen", "menschlicher", "menschliche", "mitarbeiter", "mitarbeiterin",
    "mitarbeitern", "berater", "beraterin", "kundenberater", "kundenberaterin", "kundendienst", "kundenservice",
    "kundensupport", "ansprechpartner", "ansprechpartnerin", "vorgesetzten", "agenten", "atendente",
    "atendentes", "consultor", "consultora", "umano", "umana", "umani", "operatore", "operatrice", "operatori",
    "consulente", "atendimento", "medewerker", "medewerkster", "medewerkers", "mens", "mensen", "klantenservice",
    "klantendienst", "adviseur", "helpdesk", "servicedesk", "hotline",
}
# Helpers whose word also names other things ("the manager of the store"): with a verb only.
_HELPERS_WITH_VERB = {"manager", "gerente", "responsable", "responsabile", "chef", "leidinggevende"}
# People in general: a target only next to a verb of talking or wanting ("talk to someone").
_PEOPLE = {
    "person", "persons", "someone", "somebody", "anyone", "anybody", "people", "persn", "staff", "team",
    "colleague", "personne", "quelquun", "quelqun", "collegue", "persona", "alguien", "companero", "companera",
    "jemand", "jemanden", "jemandem", "person", "kollege", "kollegin", "kollegen", "pessoa", "alguem", "colega",
    "qualcuno", "collega", "persoon", "iemand", "collega", "member", "somone", "equipe", "equipo", "squadra", "equipa", "sombody", "someon", "otherperson",
    "employee", "employees", "mitarbeitende", "empleado", "employe", "funcionario", "dipendente", "werknemer",
}
# Support in general: a target only after a verb of talking or contacting ("contact support").
_SUPPORT = {"support", "soporte", "suporte", "assistenza", "assistance", "supportteam"}
_TALK = {
    "talk", "talking", "speak", "speaking", "chat", "chatting", "connect", "connected", "transfer", "put",
    "pass", "reach", "contact", "call", "escalate", "forward", "get", "give", "gimme", "hand", "switch",
    "parler", "discuter", "joindre", "contacter", "passer", "passez", "passe", "mettez", "mettre", "mets",
    "transferer", "transferez", "appeler", "avoir", "echanger",
    "hablar", "charlar", "chatear", "comunicar", "comunicarme", "comuniqueme", "comunica", "comunicame",
    "contactar", "contacto", "pasame", "pasas", "pasa", "pasar", "paseme", "transfiereme", "transfiera",
    "transferir", "llamar", "ponerme", "pongame", "ponme", "conectar", "conecteme",
    "parlare", "contattare", "contatto", "passami", "passi", "passare", "trasferiscimi", "trasferire",
    "mettimi", "mettermi", "chiamare", "chattare", "collegare", "mette",
    "falar", "falo", "conversar", "contatar", "contactar", "passa", "passar", "transfere", "transferir",
    "ligar", "conectar", "conecta", "chamar", "coloque", "coloca", "passe",
    "sprechen", "reden", "chatten", "schreiben", "telefonieren", "verbinden", "verbindet", "weiterleiten",
    "weiterverbinden", "erreichen", "erreiche", "kontaktieren", "anrufen", "durchstellen", "sprechen",
    "praten", "spreken", "chatten", "bellen", "doorverbinden", "verbind", "verbinden", "bereiken", "bereik",
    "praat", "spreek", "contacteren", "krijgen", "geef", "geven", "zet", "colocar", "poner", "mettre", "verbinde",
    "geben", "poe", "por", "find", "holen", "hol", "haal", "venir", "llame", "llamen", "chiami", "chiama", "chama",
    "chame", "atenderme", "atender", "rispondermi", "atiendame", "atienda", "finden", "trouver", "trova", "trovare", "trovami", "consigue", "conseguir",
    "consegue", "arruma", "arranja", "regelen", "regel", "besorgen", "arrange",
}
# Verbs that may follow the target (German and Dutch put them last: "mit einem Mitarbeiter sprechen").
_TALK_AFTER = {
    "talk", "speak", "chat", "sprechen", "reden", "chatten", "schreiben", "telefonieren", "verbinden", "weiterleiten",
    "kontaktieren", "erreichen", "anrufen", "praten", "spreken", "bellen", "doorverbinden", "bereiken",
    "contacteren", "krijgen", "spreek", "praat", "hablar", "parler", "parlare", "falar", "geben", "regelen", "besorgen",
}
# Verbs that hand over something, not only a person ("get me a real person", but "get support", "give it to someone").
_GIVE = {"get", "give", "put", "hand", "pass", "avoir", "krijgen", "geef", "geven", "find", "finden", "trouver", "trova",
         "trovare", "consigue", "conseguir", "consegue", "arruma", "arranja", "regelen", "regel", "besorgen", "arrange"}
# Give-verbs that open a question, not an order ("krijgen medewerkers korting?" asks about a discount).
_NOT_IMPERATIVE = {"krijgen", "geven", "geef", "avoir", "pass", "hand", "put", "regelen", "regel"}
# Words close to a helper by one letter that are not one.
_NOT_NEAR = {"advise", "advised", "advises", "humane", "agenda", "operate", "operated", "personal", "humid", "members",
             "mensa", "agents'", "manger", "humour"}
# Verbs where the target is the subject: "can someone help me", "kann mir jemand helfen".
_TARGET_DOES = {
    "takeover", "ubernehmen", "overnemen", "atender", "atenderme", "rispondermi", "rispondere", "responder",
    "help", "assist", "helfen", "anrufen", "aider", "appeler", "ayudar", "ayudarme", "llamar", "llamarme",
    "aiutare", "aiutarmi", "chiamare", "chiamarmi", "ajudar", "ligar", "helpen", "bellen", "contact",
}
_WANT = {
    "want", "wanna", "need", "wouldlike", "prefer", "request", "demand", "rather", "require",
    "veux", "voudrais", "besoin", "souhaite", "souhaiterais", "prefere", "preferais", "aimerais",
    "quiero", "quisiera", "necesito", "prefiero", "kiero", "deseo",
    "voglio", "vorrei", "bisogno", "serve", "preferisco", "desidero",
    "quero", "queria", "preciso", "prefiro", "kero", "gostaria", "gustaria", "encantaria", "needed", "necessito",
    "mochte", "moechte", "ichwill", "brauche", "hatte", "gern", "gerne", "verlange", "benotige",
    "wil", "wilt", "graag", "nodig", "zou",
}
# Small words allowed between the verb and the target (articles, prepositions, pronouns, "real", ...).
_BETWEEN = {
    "to", "with", "a", "an", "the", "some", "your", "one", "of", "me", "through", "on", "over", "us", "you", "i",
    "can", "could", "please", "pls", "plz", "real", "live", "actual", "proper", "human", "speak", "talk", "just",
    "from", "in", "touch", "contact", "directly", "right", "now", "again", "actually", "someone", "else",
    "support", "sales", "this", "conversation", "chat", "d", "por", "dringend", "urgent", "urgente", "urgently",
    "urgentemente", "snel", "liever", "lieber", "rather", "plutot", "mieux", "sofort", "immediately", "asap", "erbij",
    "here", "on", "hier", "ici", "aqui", "qui", "hierher", "telefono", "telephone", "phone",
    "telefone", "al", "telefonisch", "am", "door", "naar", "line", "only", "voor", "contato", "contacto", "do", "da", "dos", "das", "might", "may", "would", "will", "peut", "pourrait", "podria", "pourriez", "em",
    "mit", "einem", "einer", "einen", "ein", "eine", "dem", "der", "den", "die", "des", "echten", "echte", "echter",
    "richtigen", "richtige", "realen", "bitte", "kurz", "mich", "mir", "ich", "vom", "von", "zu", "zum", "zur",
    "mal", "ihrem", "ihren", "eurem", "persoenlich", "personlich", "sie", "mit", "gern", "gerne", "doch", "nem",
    "a", "au", "aux", "avec", "un", "une", "le", "la", "les", "l", "vrai", "vraie", "moi", "me", "m", "en",
    "relation", "contact", "de", "du", "des", "je", "peux", "pouvez", "votre", "vos", "reel", "reelle",
    "con", "una", "el", "algun", "alguna", "verdad", "me", "mi", "su", "tu", "que", "puedo", "puede", "quiero",
    "com", "um", "uma", "o", "os", "as", "ao", "pra", "para", "verdade", "eu", "posso", "pode", "seu", "sua",
    "per", "il", "lo", "uno", "un", "di", "del", "della", "col", "ti", "posso", "puo", "voi", "vostro", "vero",
    "vera", "contatto", "in", "diretto",
    "met", "een", "de", "het", "echte", "echt", "van", "u", "jullie", "mij", "me", "ik", "wel", "even", "mag",
    "kan", "graag", "jouw", "uw", "iemand", "door", "aan", "lijn",
}
_FILLERS = {
    "please", "pls", "plz", "now", "asap", "thanks", "thank", "a", "an", "some", "one", "real", "live", "actual",
    "proper", "the", "i", "need", "want", "bitte", "svp", "por", "favor", "per", "favore", "aub", "alsjeblieft",
    "alstublieft", "graag", "un", "une", "una", "uno", "um", "uma", "ein", "eine", "einen", "einem", "een",
    "echte", "echten", "echter", "echt", "vrai", "vraie", "reel", "verdad", "vero", "vera", "verdadeira",
    "verdadero", "s'il", "vous", "plait", "sil", "again", "me", "hello", "hi", "hey", "ok", "okay", "just",
    "right", "away", "immediately", "s", "only", "nur", "seulement", "solo", "somente", "alleen", "sofort", "jetzt", "maintenant", "ahora", "subito", "agora", "nu", "meteen",
    "direct", "dringend", "urgent", "urgente", "de", "do", "da", "di", "del", "ser", "mal", "kurz", "ma", "mi", "al",
    "o", "a", "la", "le", "el", "il", "lo", "persoonlijk",
}
_REAL = {"real", "live", "actual", "proper", "vrai", "vraie", "reel", "reelle", "verdad", "verdadera", "verdadero",
         "verdadeira", "verdade", "vero", "vera", "reale", "echte", "echten", "echter", "echt", "richtigen",
         "richtige", "realen", "reale", "realer", "human", "humano", "humana", "humain", "humaine", "umano", "umana"}
_BOT = {"bot", "bots", "robot", "robots", "robo", "machine", "computer", "ai", "ki", "ia", "chatbot", "automaat"}
_NEGATION = {"not", "no", "dont", "don't", "without", "stop", "enough", "hate", "tired", "sick", "done", "kein",
             "keinen", "keine", "nicht", "nie", "pas", "non", "nao", "nada", "niente", "geen", "niet", "nie", "ne",
             "n't", "jamais", "nunca", "mai", "nooit", "basta", "genug", "marre", "harto", "stufo", "cansado"}
_PHONE = {"number", "phone", "telephone", "nummer", "telefonnummer", "numero", "telefone", "telefono",
          "telefoonnummer", "hotline", "tel", "telefon"}
_CALLBACK_RE = re.compile(
    r"\bcall me back\b|\bcallback\b|\ba call back\b|\bgive me a (call|ring)\b|\bcall me (asap|please|pls|now|today|on|at)\b"
    r"|\b(someone|somebody|anyone|agent|person) (please |pls )?call me$|\bappelez moi\b|\bme rappeler\b"
    r"|\betre rappelee?\b|\brappelez moi\b|\bruckruf\b|\bzuruckrufen\b|\bruf(en sie)? mich (bitte )?(an|zuruck)\b"
    r"|\bterug ?bellen\b|\bteruggebeld\b|\bbel me\b|\bque me llamen\b|\bllamenme\b|\bme (puede|pueden) llamar\b"
    r"|\bllamadme\b|\brichiam\w*\b|\bchiamatemi\b|\bbel (me|mij) (terug|aub|alstublieft)\b|\bmi (chiami|richiami)\b|\bme liguem\b|\bme ligue\b|\bme ligar\b"
)
# "is there a human", "any humans around", "gibt es hier einen Menschen", "c'è un umano", "is er een mens"
_EXISTS_RE = re.compile(
    r"\b(is there|are there|are you|any|anybody|anyone|gibt es|ist (da|hier)|y a|il y a|hay|c e|ce|tem|ha|is er|zijn er"
    r"|is hier|is daar|ist hier)\b")
# "is a human available?", "un conseiller est disponible ?", "ist ein Mitarbeiter da?"
_AVAILABLE = {"available", "around", "online", "free", "there", "disponible", "disponibles", "disponibile", "disponibili",
              "disponivel", "disponiveis", "beschikbaar", "aanwezig", "verfugbar", "da", "erreichbar", "libre", "libero"}
_TALK_PREFIXES = ("transf", "trasf", "contat", "contact", "kontakt", "comunic", "connect", "conect", "weiterleit",
                  "doorverbind")
_ME = {"me", "mij", "mich", "mir", "moi", "mi", "i", "ik", "ich", "je", "eu", "yo", "io", "m", "us", "uns", "ons", "nous"}
_REAL_HUMANS = {"human", "humans", "humain", "humains", "humano", "humanos", "umano", "umani", "mensch", "menschen",
                "mens", "mensen"}
_SERVICES = {"customerservice", "kundenservice", "kundendienst", "kundensupport", "klantenservice", "klantendienst",
             "helpdesk", "servicedesk", "hotline", "atendimento"}
_HELP_NOUNS = {"help", "hilfe", "hulp", "aide", "ayuda", "aiuto", "ajuda"}
# Questions to the bot about itself ("are you a real person?", "am I talking to a robot") are small talk.
_ABOUT_BOT_RE = re.compile(
    r"\b(are|r) (you|u)\b|\b(you are|you re|u r)\b|\bcould you be\b|\bam i (talking|speaking|chatting|texting)\b"
    r"|\bis (this|it|that) (a |an )?(real|bot|robot|human|person|automated|ai|live|chatbot)\b|\bbist du\b"
    r"|\bsind sie (ein|eine|echt|ein mensch)\b|\bist das (ein|eine)\b|\b(rede|spreche|chatte|schreibe) ich\b|\bes tu\b"
    r"|\betes vous\b|\bc est (un|une) (robot|bot|humain|vraie?)\b|\bje parle (a|avec)\b|\beres\b|\bes usted\b"
    r"|\bestoy hablando\b|\bsei (un|una|umano|vero|reale)\b|\bsto parlando\b|(?<!c )\be un (bot|robot|umano)\b"
    r"|\bvoce e\b|(?<!c )\be um (robo|bot|humano)\b|\bestou falando\b|\bben je\b|\bbent u\b|\bis dit\b"
    r"|\b(praat|spreek|chat) ik\b")


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
    """Does the customer ask for a person? See the comment above _COMPOUNDS for how it reads."""
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


_BOT_PHRASES_RE = re.compile(
    r"\b(tired of|hate|sick of|stop|done) talking to (a |an |the |this )?(bot|robot|machine|computer)\b"
    r"|\btalking to (a |an |the |this )?(bot|robot|machine|computer) (is|sucks)\b"
    r"|^(human )?hand ?off( please| pls| now)?$|\bhuman (support|help|agent)\b"
    r"|^(please )?(transfer|connect|forward) me( please| pls| now)?$"
    r"|\bmich (bitte )?(weiterleiten|weiterverbinden|verbinden|durchstellen)\b|\bverbind (me|mij) (alstublieft |aub |even )?door\b"
    r"|\b(me|mij) (even |graag )?doorverbinden\b|^(graag |aub )?doorverbinden( graag| aub| alstublieft)?$"
)


# --- Small talk by rule -----------------------------------------------------------------------
# A whole message of small-talk words, with at least one that says which kind: "thanks a lot",
# "merci beaucoup", "tot ziens", "sorry, wrong window", "haha", "👍". Mixed kinds take the one that
# ends the exchange first ("ok thanks, bye" is a goodbye). "ok" or "yes" alone is no small talk:
# it may answer "would you like to talk to a person?".
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


# --- Frustration ------------------------------------------------------------------------------
# Swearing counts anywhere; scorn ("useless", "lächerlich", "belachelijk") when it is said of
# something, not when it names a thing ("return a useless gadget"); anger when the customer says
# they are angry ("I'm really angry", "ich bin echt sauer"). Capitals or "???" alone are no anger,
# and the Dutch "nul" is zero.
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
