"""The words and phrases bot/person_request.py reads a request for a person by, in English,
German, French, Spanish, Italian, Portuguese and Dutch (accent-free, lower-case)."""

from __future__ import annotations

import re

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


_BOT_PHRASES_RE = re.compile(
    r"\b(tired of|hate|sick of|stop|done) talking to (a |an |the |this )?(bot|robot|machine|computer)\b"
    r"|\btalking to (a |an |the |this )?(bot|robot|machine|computer) (is|sucks)\b"
    r"|^(human )?hand ?off( please| pls| now)?$|\bhuman (support|help|agent)\b"
    r"|^(please )?(transfer|connect|forward) me( please| pls| now)?$"
    r"|\bmich (bitte )?(weiterleiten|weiterverbinden|verbinden|durchstellen)\b|\bverbind (me|mij) (alstublieft |aub |even )?door\b"
    r"|\b(me|mij) (even |graag )?doorverbinden\b|^(graag |aub )?doorverbinden( graag| aub| alstublieft)?$"
)

