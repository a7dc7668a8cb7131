"""What the bot and the desk say to customers, in the languages Parley ships."""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl")

_TEXT: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hi! I'm the virtual assistant. Ask me anything, or ask for a person at any time.",
        "fr": "Bonjour ! Je suis l'assistant virtuel. Posez votre question, ou demandez un conseiller à tout moment.",
        "es": "¡Hola! Soy el asistente virtual. Pregúnteme lo que necesite, o pida hablar con un agente cuando quiera.",
        "de": "Hallo! Ich bin der virtuelle Assistent. Fragen Sie mich gern etwas – oder lassen Sie sich jederzeit mit einem Mitarbeiter verbinden.",
        "pt": "Olá! Sou o assistente virtual. Pergunte o que precisar, ou peça para falar com um atendente a qualquer momento.",
        "it": "Ciao! Sono l'assistente virtuale. Chiedimi pure, oppure chiedi di parlare con un operatore quando vuoi.",
        "nl": "Hallo! Ik ben de virtuele assistent. Stel gerust uw vraag, of vraag op elk moment naar een medewerker.",
    },
    "thanks": {
        "en": "You're welcome! Anything else I can help with?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "es": "¡De nada! ¿Puedo ayudarle con algo más?",
        "de": "Gern geschehen! Kann ich sonst noch helfen?",
        "pt": "De nada! Posso ajudar com mais alguma coisa?",
        "it": "Prego! Posso aiutarti con qualcos'altro?",
        "nl": "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
    },
    "goodbye": {
        "en": "Goodbye, and have a great day!",
        "fr": "Au revoir, et bonne journée !",
        "es": "¡Adiós, que tenga un buen día!",
        "de": "Auf Wiedersehen und einen schönen Tag!",
        "pt": "Até logo, tenha um ótimo dia!",
        "it": "Arrivederci, buona giornata!",
        "nl": "Tot ziens, en nog een fijne dag!",
    },
    "clarify": {
        "en": "I found a few articles that might help. Which one did you mean?",
        "fr": "J'ai trouvé plusieurs articles. Lequel vous intéresse ?",
        "es": "Encontré algunos artículos. ¿Cuál quería decir?",
        "de": "Ich habe mehrere Artikel gefunden. Welchen meinen Sie?",
        "pt": "Encontrei alguns artigos. Qual deles você quis dizer?",
        "it": "Ho trovato alcuni articoli. Quale intendevi?",
        "nl": "Ik heb een paar artikelen gevonden die kunnen helpen. Welke bedoelt u?",
    },
    "not_helpful": {
        "en": "Sorry that didn't help. Could you rephrase your question? You can also ask for a person.",
        "fr": "Désolé, cela ne vous a pas aidé. Pouvez-vous reformuler ? Vous pouvez aussi demander un conseiller.",
        "es": "Siento que no le haya servido. ¿Puede reformular su pregunta? También puedo pasarle con un agente.",
        "de": "Schade, dass das nicht geholfen hat. Können Sie die Frage anders formulieren? Gern verbinde ich Sie auch mit einem Mitarbeiter.",
        "pt": "Que pena que não ajudou. Pode reformular a pergunta? Também posso passar você para um atendente.",
        "it": "Mi dispiace che non sia stato utile. Puoi riformulare la domanda? Posso anche passarti a un operatore.",
        "nl": "Jammer dat dit niet hielp. Kunt u uw vraag anders formuleren? U kunt ook naar een medewerker vragen.",
    },
    "feedback_thanks": {
        "en": "Thanks for the feedback!",
        "fr": "Merci pour votre retour !",
        "es": "¡Gracias por su opinión!",
        "de": "Danke für Ihr Feedback!",
        "pt": "Obrigado pelo feedback!",
        "it": "Grazie per il feedback!",
        "nl": "Bedankt voor uw feedback!",
    },
    "queued": {
        "en": "I'm connecting you with a person. You are number {position} in the queue.",
        "fr": "Je vous mets en relation avec un conseiller. Vous êtes numéro {position} dans la file.",
        "es": "Le estoy conectando con una persona. Es el número {position} en la cola.",
        "de": "Ich verbinde Sie mit einem Mitarbeiter. Sie sind Nummer {position} in der Warteschlange.",
        "pt": "Estou conectando você com uma pessoa. Você é o número {position} na fila.",
        "it": "Ti sto mettendo in contatto con una persona. Sei il numero {position} in coda.",
        "nl": "Ik verbind u met een medewerker. U bent nummer {position} in de wachtrij.",
    },
    "queued_offline": {
        "en": "No one from our team is available right now. Leave your email and we'll reply as soon as we're back; your question is saved.",
        "fr": "Aucun conseiller n'est disponible pour le moment. Laissez votre e-mail et nous vous répondrons dès notre retour.",
        "es": "No hay nadie disponible ahora. Deje su correo y le responderemos en cuanto volvamos.",
        "de": "Gerade ist niemand verfügbar. Hinterlassen Sie Ihre E-Mail, wir antworten, sobald wir zurück sind.",
        "pt": "Ninguém está disponível agora. Deixe seu e-mail e responderemos assim que voltarmos.",
        "it": "Al momento nessuno è disponibile. Lascia la tua email e ti risponderemo appena possibile.",
        "nl": "Er is op dit moment niemand van ons team beschikbaar. Laat uw e-mailadres achter, dan reageren we zodra we er weer zijn; uw vraag is bewaard.",
    },
    "queued_closed": {
        "en": "We're closed right now; we're back {when}. Leave your email and we'll reply then; your question is saved. Meanwhile I can still answer questions here.",
        "fr": "Nous sommes fermés pour le moment ; nous revenons {when}. Laissez votre e-mail et nous vous répondrons ; votre question est enregistrée. En attendant, je peux toujours répondre à vos questions ici.",
        "es": "Ahora mismo estamos cerrados; volvemos {when}. Deje su correo y le responderemos entonces; su pregunta queda guardada. Mientras tanto, puedo seguir respondiendo aquí.",
        "de": "Wir sind gerade nicht erreichbar und ab {when} wieder da. Hinterlassen Sie Ihre E-Mail, dann antworten wir Ihnen; Ihre Frage ist gespeichert. Bis dahin beantworte ich hier gern weitere Fragen.",
        "pt": "Estamos fechados agora; voltamos {when}. Deixe seu e-mail e responderemos; sua pergunta está salva. Enquanto isso, ainda posso responder por aqui.",
        "it": "Al momento siamo chiusi; torniamo {when}. Lascia la tua email e ti risponderemo; la tua domanda è salvata. Nel frattempo posso ancora rispondere qui.",
        "nl": "We zijn nu gesloten; we zijn er weer {when}. Laat uw e-mailadres achter, dan antwoorden we; uw vraag is bewaard. Intussen kan ik hier nog vragen beantwoorden.",
    },
    "welcome_back": {
        "en": "Welcome back, {name}!",
        "fr": "Bon retour, {name} !",
        "es": "¡Bienvenido de nuevo, {name}!",
        "de": "Willkommen zurück, {name}!",
        "pt": "Bem-vindo de volta, {name}!",
        "it": "Bentornato, {name}!",
        "nl": "Welkom terug, {name}!",
    },
    "assigned": {
        "en": "{agent} has joined the chat.",
        "fr": "{agent} a rejoint la conversation.",
        "es": "{agent} se ha unido al chat.",
        "de": "{agent} ist dem Chat beigetreten.",
        "pt": "{agent} entrou no chat.",
        "it": "{agent} si è unito alla chat.",
        "nl": "{agent} neemt nu deel aan het gesprek.",
    },
    "resolved": {
        "en": "This conversation has been marked as resolved. How did we do?",
        "fr": "Cette conversation est résolue. Comment avons-nous fait ?",
        "es": "Esta conversación se ha resuelto. ¿Qué tal lo hicimos?",
        "de": "Dieses Gespräch wurde als gelöst markiert. Wie waren wir?",
        "pt": "Esta conversa foi resolvida. Como nos saímos?",
        "it": "Questa conversazione è stata risolta. Come ci siamo comportati?",
        "nl": "Dit gesprek is als opgelost gemarkeerd. Hoe hebben we het gedaan?",
    },
    "handed_back": {
        "en": "You're back with the virtual assistant. Ask for a person at any time.",
        "fr": "Vous êtes de retour avec l'assistant virtuel. Demandez un conseiller à tout moment.",
        "es": "Vuelve a estar con el asistente virtual. Puede pedir un agente cuando quiera.",
        "de": "Sie sind wieder beim virtuellen Assistenten. Ein Mitarbeiter ist jederzeit nur eine Nachricht entfernt.",
        "pt": "Você voltou ao assistente virtual. Pode pedir um atendente a qualquer momento.",
        "it": "Sei di nuovo con l'assistente virtuale. Puoi chiedere un operatore quando vuoi.",
        "nl": "U bent weer in gesprek met de virtuele assistent. Vraag op elk moment naar een medewerker.",
    },
    "contact_saved": {
        "en": "Thanks! We'll reply to {email}.",
        "fr": "Merci ! Nous répondrons à {email}.",
        "es": "¡Gracias! Responderemos a {email}.",
        "de": "Danke! Wir antworten an {email}.",
        "pt": "Obrigado! Responderemos para {email}.",
        "it": "Grazie! Risponderemo a {email}.",
        "nl": "Bedankt! We antwoorden naar {email}.",
    },
    "bot_question": {
        "en": "I'm the virtual assistant, a bot. I can answer from our help articles, and a person is one message away: just ask.",
        "fr": "Je suis l'assistant virtuel, un robot. Je réponds à partir de nos articles d'aide, et un conseiller est à un message : demandez-le.",
        "es": "Soy el asistente virtual, un bot. Respondo con nuestros artículos de ayuda, y una persona está a un mensaje: solo pídala.",
        "de": "Ich bin der virtuelle Assistent, ein Bot. Ich antworte aus unseren Hilfeartikeln, und ein Mensch ist nur eine Nachricht entfernt: fragen Sie einfach.",
        "pt": "Sou o assistente virtual, um robô. Respondo com nossos artigos de ajuda, e uma pessoa está a uma mensagem: é só pedir.",
        "it": "Sono l'assistente virtuale, un bot. Rispondo con i nostri articoli di aiuto, e una persona è a un messaggio di distanza: basta chiedere.",
        "nl": "Ik ben de virtuele assistent, een bot. Ik antwoord met onze hulpartikelen, en een medewerker is één bericht verwijderd: vraag het gewoon.",
    },
    "apology": {
        "en": "No problem! Ask me anything whenever you're ready.",
        "fr": "Pas de souci ! Posez-moi votre question quand vous voulez.",
        "es": "¡No pasa nada! Pregúnteme lo que quiera cuando quiera.",
        "de": "Kein Problem! Fragen Sie mich, wann immer Sie möchten.",
        "pt": "Sem problema! Pergunte o que quiser quando quiser.",
        "it": "Nessun problema! Chiedimi pure quando vuoi.",
        "nl": "Geen probleem! Vraag me gerust iets wanneer u wilt.",
    },
    "acknowledge": {
        "en": "Glad to help! Anything else?",
        "fr": "Ravi d'avoir aidé ! Autre chose ?",
        "es": "¡Me alegra ayudar! ¿Algo más?",
        "de": "Freut mich! Noch etwas?",
        "pt": "Fico feliz em ajudar! Mais alguma coisa?",
        "it": "Felice di aiutare! Altro?",
        "nl": "Graag gedaan! Nog iets?",
    },
    "filler": {
        "en": "Take your time. What can I help you with? You can also ask for a person.",
        "fr": "Prenez votre temps. Que puis-je faire pour vous ? Vous pouvez aussi demander un conseiller.",
        "es": "Tómese su tiempo. ¿En qué puedo ayudarle? También puede pedir hablar con una persona.",
        "de": "Lassen Sie sich Zeit. Wobei kann ich helfen? Sie können auch nach einem Mitarbeiter fragen.",
        "pt": "Sem pressa. Em que posso ajudar? Você também pode pedir para falar com uma pessoa.",
        "it": "Fai con calma. Come posso aiutarti? Puoi anche chiedere di parlare con una persona.",
        "nl": "Neem de tijd. Waarmee kan ik u helpen? U kunt ook naar een medewerker vragen.",
    },
    "presence": {
        "en": "Yes, I'm here! I'm the virtual assistant. What can I help you with? If you'd like a person, just say so.",
        "fr": "Oui, je suis là ! Je suis l'assistant virtuel. Que puis-je faire pour vous ? Si vous préférez un conseiller, dites-le.",
        "es": "¡Sí, aquí estoy! Soy el asistente virtual. ¿En qué puedo ayudarle? Si prefiere una persona, dígamelo.",
        "de": "Ja, ich bin da! Ich bin der virtuelle Assistent. Wobei kann ich helfen? Wenn Sie lieber mit einem Mitarbeiter sprechen, sagen Sie es einfach.",
        "pt": "Sim, estou aqui! Sou o assistente virtual. Em que posso ajudar? Se preferir uma pessoa, é só dizer.",
        "it": "Sì, sono qui! Sono l'assistente virtuale. Come posso aiutarti? Se preferisci una persona, dimmelo.",
        "nl": "Ja, ik ben er! Ik ben de virtuele assistent. Waarmee kan ik u helpen? Wilt u liever een medewerker, zeg het gerust.",
    },
    "declined": {
        "en": "All right. Ask me anything else whenever you like.",
        "fr": "D'accord. Posez-moi une autre question quand vous voulez.",
        "es": "De acuerdo. Pregúnteme otra cosa cuando quiera.",
        "de": "In Ordnung. Fragen Sie mich gern etwas anderes.",
        "pt": "Tudo bem. Pergunte outra coisa quando quiser.",
        "it": "D'accordo. Chiedimi pure altro quando vuoi.",
        "nl": "Goed. Vraag me gerust iets anders.",
    },
    "clarify_unsure": {
        "en": "I'm not sure I found the right answer. Is it one of these? If not, I can get you a person.",
        "fr": "Je ne suis pas sûr d'avoir trouvé la bonne réponse. Est-ce l'un de ces articles ? Sinon, je peux vous passer un conseiller.",
        "es": "No estoy seguro de haber encontrado la respuesta. ¿Es alguno de estos? Si no, puedo pasarle con una persona.",
        "de": "Ich bin nicht sicher, ob ich die richtige Antwort gefunden habe. Ist es einer dieser Artikel? Sonst verbinde ich Sie mit einem Mitarbeiter.",
        "pt": "Não tenho certeza de ter encontrado a resposta certa. É um destes? Se não, posso chamar uma pessoa.",
        "it": "Non sono sicuro di aver trovato la risposta giusta. È uno di questi? Altrimenti posso passarti a una persona.",
        "nl": "Ik weet niet zeker of ik het juiste antwoord heb gevonden. Is het een van deze? Zo niet, dan verbind ik u met een medewerker.",
    },
    "no_answer": {
        "en": "Sorry, I don't have an article that answers that. Would you like to talk to a person? You can also ask me something else.",
        "fr": "Désolé, je n'ai pas d'article qui réponde à cela. Voulez-vous parler à un conseiller ? Vous pouvez aussi me poser une autre question.",
        "es": "Lo siento, no tengo un artículo que responda a eso. ¿Quiere hablar con una persona? También puede preguntarme otra cosa.",
        "de": "Dazu habe ich leider keinen Artikel. Möchten Sie mit einem Mitarbeiter sprechen? Sie können mich auch etwas anderes fragen.",
        "pt": "Desculpe, não tenho um artigo que responda a isso. Quer falar com uma pessoa? Também pode me perguntar outra coisa.",
        "it": "Mi dispiace, non ho un articolo che risponda a questo. Vuoi parlare con una persona? Puoi anche chiedermi altro.",
        "nl": "Sorry, daar heb ik geen artikel over. Wilt u met een medewerker praten? U kunt mij ook iets anders vragen.",
    },
    "queued_suggestion": {
        "en": "While you wait, this article might help:",
        "fr": "En attendant, cet article pourrait vous aider :",
        "es": "Mientras espera, este artículo podría ayudarle:",
        "de": "Während Sie warten, hilft vielleicht dieser Artikel:",
        "pt": "Enquanto espera, este artigo pode ajudar:",
        "it": "Mentre aspetti, questo articolo potrebbe aiutarti:",
        "nl": "Terwijl u wacht, helpt dit artikel misschien:",
    },
    "rating_thanks": {
        "en": "Thank you for rating this conversation.",
        "fr": "Merci d'avoir évalué cette conversation.",
        "es": "Gracias por valorar esta conversación.",
        "de": "Danke für Ihre Bewertung.",
        "pt": "Obrigado por avaliar esta conversa.",
        "it": "Grazie per aver valutato questa conversazione.",
        "nl": "Bedankt voor uw beoordeling van dit gesprek.",
    },
}


KEYS = tuple(_TEXT)


def say(key: str, lang: str = "en", **values: object) -> str:
    """The reply `key` in `lang` (English where the language is not one Parley ships)."""
    table = _TEXT[key]
    template = table.get(lang) or table["en"]
    return template.format(**values)


_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
# (today, tomorrow, a weekday or a date, "your time"), each with {time}
_WHEN = {
    "en": ("today at {time}", "tomorrow at {time}", "{day} at {time}", "your time"),
    "fr": ("aujourd'hui à {time}", "demain à {time}", "{day} à {time}", "votre heure"),
    "es": ("hoy a las {time}", "mañana a las {time}", "el {day} a las {time}", "su hora"),
    "de": ("heute um {time}", "morgen um {time}", "{day} um {time}", "Ihre Zeit"),
    "pt": ("hoje às {time}", "amanhã às {time}", "{day} às {time}", "seu horário"),
    "it": ("oggi alle {time}", "domani alle {time}", "{day} alle {time}", "la tua ora"),
    "nl": ("vandaag om {time}", "morgen om {time}", "{day} om {time}", "uw tijd"),
}


def when_back(lang: str, back: datetime, now: datetime, customer_zone: bool) -> str:
    """"Monday at 09:00 (your time)": `back` and `now` already in the zone to say it in, the
    customer's own when `customer_zone` (else the zone's name is given)."""
    today, tomorrow, other, yours = _WHEN.get(lang) or _WHEN["en"]
    days = (back.date() - now.date()).days
    clock = f"{back:%H:%M}"
    if days <= 0:
        phrase = today.format(time=clock)
    elif days == 1:
        phrase = tomorrow.format(time=clock)
    else:
        day = (_WEEKDAYS.get(lang) or _WEEKDAYS["en"])[back.weekday()] if days < 7 else back.date().isoformat()
        phrase = other.format(day=day, time=clock)
    zone = yours if customer_zone else str(back.tzinfo)
    return f"{phrase} ({zone})"


def texts(key: str) -> dict[str, str]:
    """Every language's template of `key` (for tests and translators)."""
    return dict(_TEXT[key])
