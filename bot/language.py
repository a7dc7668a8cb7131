"""Which language a customer writes in, from the message itself (not only the page's `lang`).

A vote over each supported language's function words ("der", "het", "est-ce", "você") and a few
words that only one of them uses ("bitte", "bedankt", "obrigado", "medewerker", "atendente"), with
letters as a tie-breaker ("ß", "ñ", "ã"). A message of three or more words needs two votes and a
clear winner; a shorter one ("Mitarbeiter bitte", "merci") counts only by such distinctive words.
Anything else keeps the conversation's language. Cheap (a set lookup per word).
"""

from __future__ import annotations

import re
import unicodedata

LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")

_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the a an is are do does how what where when why can i my you your to of for and in on it "
                    "with this that have has not please there get want need would could should me we our "
                    "which who much many long does did was".split()),
    "de": frozenset("der die das ist sind wie was wo wann warum kann ich mein meine sie ihr zu von für und in "
                    "mit nicht bitte ein eine dauert nach habe hat den dem bei auf einen einem möchte möchten "
                    "gibt es wir uns kein keine mich mir noch schon auch oder aber wieso welche lange".split()),
    "fr": frozenset("le la les est sont comment quoi où quand pourquoi je mon ma mes vous votre pour et dans "
                    "avec ne pas une un des du au aux est-ce qu que svp de combien prend puis-je peux "
                    "veux voudrais il y a-t-il nous notre mais ou quel quelle faire".split()),
    "es": frozenset("el la los las es son cómo como qué que dónde cuándo por yo mi mis usted su para y en con "
                    "no una un del al puedo tengo está cuánto cuanto tarda envío quiero necesito hay "
                    "hacer pero o cuál cual mí me".split()),
    "it": frozenset("il lo la gli le è sono come cosa dove quando perché io mio mia voi vostro per e in con "
                    "non una uno del della posso ho quanto ci di vuole voglio vorrei c'è fare ma o quale "
                    "mi nel nella alla".split()),
    "pt": frozenset("o a os as é são como quê que onde quando porque eu meu minha você seu para e em com não "
                    "uma um do da posso tenho está quanto demora de quero preciso tem fazer mas ou qual "
                    "no na pelo pela".split()),
    "nl": frozenset("de het een is zijn hoe wat waar wanneer waarom ik mijn u uw jij je voor en in met niet "
                    "kan heb van naar duurt wil graag ook er geen dit dat kunnen wordt mag maar of welke".split()),
}
# Words only one supported language writes: they decide a short message on their own.
_CUES: dict[str, frozenset[str]] = {
    "en": frozenset("hi hello hey thanks thank thx bye goodbye please pls human agent someone somebody person help "
                    "sorry cheers what where how shipping order refund account password delivery customer service "
                    "the is you your my i'm can't don't doesn't i'd you're that's it's what's oops lol great awesome "
                    "nice cool representative operator talk speak call real people anyone wrong window robot bot "
                    "morning evening later see".split()),
    "de": frozenset("hallo moin servus danke dankeschön tschüss tschüs wiedersehen bitte mitarbeiter mitarbeiterin "
                    "mensch menschen kundenservice kundendienst entschuldigung ich nicht lieferung versand rückruf "
                    "rechnung guten morgen tag genau stimmt vielen schön schönen klasse toll prima perfekt "
                    "falsches falscher fenster vertippt vertan gut bist du sind sie ihr seid jemand jemanden "
                    "jemandem sprechen reden möchte brauche bestellung konto passwort rücksendung zurück daten "
                    "persönliche ändern hilfe sauer unverschämt lächerlich mist nutzlos zusammen später echt "
                    "abend nacht und oder ist kein keine kann welche wie wo wann gibt".split()),
    "fr": frozenset("bonjour salut bonsoir coucou merci revoir svp conseiller conseillère humain quelqu'un "
                    "désolé désolée oui livraison commande remboursement s'il plaît beaucoup bonne journée "
                    "bientôt génial parfait mdr ptdr oups mauvaise mauvais fenêtre laisse tomber tu es êtes "
                    "parler veux voudrais je vous nous c'est j'ai n'est compte mot passe données personnelles "
                    "aide nul marre inutiles inutile tous plus infiniment bien très est-ce qu'il comment pourquoi "
                    "appareils avec pour sur dans".split()),
    "es": frozenset("hola buenas gracias adiós hasta luego asesor humano alguien perdón lo siento envío pedido "
                    "reembolso quiero necesito muchas buenos días tardes noches qué tal equivocada equivocado "
                    "olvídalo genial perfecto jajaja jaja eres hablar persona cuenta contraseña datos personales "
                    "ayuda harto vergüenza nuevo mil vale tengas cuántas cuántos pueden puede tiene tienen "
                    "usted ustedes estoy está están pago descuento para".split()),
    "it": frozenset("ciao buongiorno buonasera salve grazie arrivederci operatore umano qualcuno scusa "
                    "spedizione ordine rimborso voglio vorrei mille presto buona giornata sei sbagliata "
                    "sbagliato lascia stare ottimo fantastico perfetto parlare persona persone account password "
                    "dati personali aiuto stufo vergogna ringrazio tante ahah ahaha posso può puoi sono siete "
                    "questo questa quanto quante quali come dove perché della degli dei per sconto".split()),
    "pt": frozenset("olá oi obrigado obrigada valeu tchau atendente atendimento alguém pessoa desculpa desculpe "
                    "entrega pedido reembolso quero preciso você vocês muito muita bom boa dia tarde noite até "
                    "logo janela errada errado foi mal deixa pra lá ótimo perfeito kkkk falar conta senha dados "
                    "pessoais ajuda farto vergonha brigado eae falou pessoas têm tem podem pode não estão estou "
                    "meu minha meus minhas para desconto".split()),
    "nl": frozenset("hoi hallo doei bedankt dankjewel dankuwel alsjeblieft alstublieft aub medewerker mens iemand "
                    "klantenservice sorry graag bestelling levering verzending terugbetaling ziens goedemorgen "
                    "goedemiddag goedenavond wil ik niet fijne dag nog verkeerd verkeerde venster "
                    "oeps foutje laat maar mooi zo ben jij jullie praten spreken persoon echte echt account "
                    "wachtwoord gegevens persoonlijke hulp zat heel erg daar getypt terugbellen bel me door "
                    "verbind korting welke worden ondersteund gebruiken hoeveel mensen voor mijn saldo staat "
                    "op nul zijn schandalig nutteloos slaat nergens".split()),
}
# Pairs of words that only one language writes ("dank je", "vielen dank").
_PAIRS: dict[str, frozenset[str]] = {
    "en": frozenset({"thank you", "talk to", "speak to", "i want", "i need", "how do", "can i"}),
    "de": frozenset({"vielen dank", "danke schön", "guten tag", "guten morgen", "bis bald", "bis später"}),
    "fr": frozenset({"merci beaucoup", "à bientôt", "à plus", "je veux", "s'il vous"}),
    "es": frozenset({"muchas gracias", "buenos días", "hasta luego", "lo siento", "me gustaría"}),
    "it": frozenset({"grazie mille", "a presto", "per favore", "va bene"}),
    "pt": frozenset({"muito obrigado", "muito obrigada", "até logo", "bom dia", "boa tarde", "boa noite"}),
    "nl": frozenset({"dank je", "dank u", "dank jullie", "tot ziens", "fijne dag"}),
}
# Endings only one language's words tend to have; half a vote each, in longer messages.
_ENDINGS: dict[str, tuple[str, ...]] = {
    "en": ("ly", "ght", "th"),
    "de": ("ung", "keit", "heit", "lich", "isch", "sch", "tz", "chen", "ß"),
    "fr": ("eau", "eaux", "eux", "euse", "ière", "ais", "ait", "ez", "ées", "é"),
    "es": ("ción", "ciones", "dad", "idad", "ñ", "ía", "ado", "ada", "amos", "os"),
    "it": ("zione", "zioni", "tà", "gli", "ggio", "zza", "etto", "ato", "ata", "ere", "ire", "i"),
    "pt": ("ção", "ções", "ão", "ões", "nh", "lh", "mente", "ado", "ada", "ar"),
    "nl": ("ij", "heid", "lijk", "aa", "oe", "ee", "uu", "je", "tje", "en"),
}
# Letters that lean to one language; a tie-breaker only.
_LETTERS = {"ß": "de", "ä": "de", "ö": "de", "ü": "de", "ñ": "es", "¿": "es", "¡": "es", "ã": "pt", "õ": "pt",
            "ç": "fr", "ê": "pt", "â": "fr", "œ": "fr", "ù": "fr", "ì": "it", "ò": "it"}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)?", re.UNICODE)


def detect(text: str) -> str | None:
    """The language `text` is written in, one of LANGUAGES, or None when the message does not say."""
    text = unicodedata.normalize("NFC", text[:600])
    words = [w.lower().replace("’", "'") for w in _TOKEN.findall(text)]
    if not words:
        return None
    votes = {lang: 0.0 for lang in LANGUAGES}
    cues = {lang: 0 for lang in LANGUAGES}
    for w in words:
        for lang in LANGUAGES:
            if w in _WORDS[lang]:
                votes[lang] += 1
            if w in _CUES[lang]:
                cues[lang] += 1
    for first, second in zip(words, words[1:]):
        for lang in LANGUAGES:
            if f"{first} {second}" in _PAIRS[lang]:
                cues[lang] += 2
    letters = {lang: 0 for lang in LANGUAGES}
    for c in text.lower():
        if c in _LETTERS:
            letters[_LETTERS[c]] += 1
    endings = {lang: 0.0 for lang in LANGUAGES}
    for w in words:
        if len(w) >= 4:
            for lang in LANGUAGES:
                if w.endswith(_ENDINGS[lang]) or (lang == "nl" and "ij" in w) or (lang == "de" and ("sch" in w or "ü" in w)):
                    endings[lang] += 0.5
    if len(words) < 3:
        cued = [lang for lang in LANGUAGES if cues[lang]]
        ranked_cues = sorted(cued, key=lambda lang: (cues[lang], letters[lang]), reverse=True)
        if len(ranked_cues) == 1 or (ranked_cues and (cues[ranked_cues[0]], letters[ranked_cues[0]]) > (
                cues[ranked_cues[1]], letters[ranked_cues[1]])):
            return ranked_cues[0]
        return None
    score = {lang: votes[lang] + cues[lang] + 0.5 * min(letters[lang], 2) + min(endings[lang], 1.5)
             for lang in LANGUAGES}
    ranked = sorted(score.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 2 and top > second else None
