"""Email in, piece by piece: MIME parsing, quoted history and signatures, signed reply addresses."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from app.email_addresses import Signer
from app.email_outbound import reply_subject
from app.email_parsing import MailRefused, html_to_text, parse_inbound, strip_reply


def raw_email(body: str = "Hello", *, sender: str = "Ann <ann@example.com>", subject: str = "Help",
              html: str | None = None, **headers: str) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "help@lumen.example"
    m["Subject"] = subject
    m["Message-ID"] = "<m1@example.com>"
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    if html is None:
        m.set_content(body)
    else:
        m.set_content(body)
        m.add_alternative(html, subtype="html")
    return m.as_bytes()


@pytest.mark.parametrize("reply, kept", [
    ("Thanks, that worked!\n\nOn Tue, 1 Dec 2026 at 10:00, Lumen <help@lumen.example> wrote:\n> Hi Ann\n> more",
     "Thanks, that worked!"),
    ("Thanks!\nOn Tue, 1 Dec 2026 at 10:00, Lumen & Loom Support <reply+c_1.abc@lumen.example>\nwrote:\n> Hi",
     "Thanks!"),
    ("Still broken.\n\n-- \nAnn Example\nACME Ltd", "Still broken."),
    ("Yes please\n\n-----Original Message-----\nFrom: Lumen\nSent: Tuesday\nTo: Ann\n\nHi", "Yes please"),
    ("It works\n\nFrom: Lumen <help@lumen.example>\nSent: Tuesday, 1 December 2026 10:00\nTo: Ann\nSubject: Re: x\n\nHi",
     "It works"),
    ("Merci\n\nLe mar. 1 déc. 2026 à 10:00, Lumen <help@lumen.example> a écrit :\n> Bonjour", "Merci"),
    ("line one\n> quoted in the middle\nline two", "line one\nline two"),
    ("Thanks\n\nSent from my iPhone", "Thanks"),
    ("A -- B is not a signature\nsecond line", "A -- B is not a signature\nsecond line"),
])
def test_only_the_new_text_of_a_reply_is_kept(reply: str, kept: str) -> None:
    assert strip_reply(reply) == kept


def test_a_message_is_parsed_with_its_threading_headers() -> None:
    mail = parse_inbound(raw_email("Where is my order?", In_Reply_To="<out1@lumen.example>",
                                   References="<out0@lumen.example> <out1@lumen.example>"), 10_000)
    assert (mail.sender, mail.name, mail.subject, mail.text) == ("ann@example.com", "Ann", "Help", "Where is my order?")
    assert mail.message_id == "<m1@example.com>" and "<out1@lumen.example>" in mail.references and not mail.auto


def test_html_only_mail_becomes_text_without_its_quote() -> None:
    m = EmailMessage()
    m["From"] = "ann@example.com"
    m["Subject"] = "x"
    m.set_content("<p>New <b>text</b></p><div class=gmail_quote>On … wrote:<blockquote>old</blockquote></div>"
                  "<script>alert(1)</script>", subtype="html")
    assert parse_inbound(m.as_bytes(), 10_000).text == "New text"
    assert html_to_text("<p>a</p><p>b</p>") == "a\n\nb"


@pytest.mark.parametrize("raw, code", [
    (b"x" * 2000, 552),  # over the limit: refused before parsing
    (b"", 554),
    (b"Subject: no sender\r\n\r\nhello", 554),
    (b"From: a@example.com, b@example.com\r\nSubject: two\r\n\r\nhello", 554),
    (b"From: not an address\r\nSubject: x\r\n\r\nhello", 554),
])
def test_oversized_or_malformed_mail_is_refused_with_an_smtp_code(raw: bytes, code: int) -> None:
    with pytest.raises(MailRefused) as refused:
        parse_inbound(raw, 1500)
    assert refused.value.code == code and refused.value.reason


def test_auto_replies_are_recognised() -> None:
    assert parse_inbound(raw_email("I am away", Auto_Submitted="auto-replied"), 10_000).auto
    assert parse_inbound(raw_email("list", Precedence="bulk"), 10_000).auto


def test_a_reply_address_names_its_conversation_only_with_the_right_signature() -> None:
    signer = Signer("k" * 64)
    local = signer.reply_local_part("c_0123456789abcdef01234567")
    assert len(local) <= 64  # an address's local part
    assert signer.conversation_for(f"{local}@lumen.example", "lumen.example") == ("c_0123456789abcdef01234567", True)
    assert signer.conversation_for(f"{local.upper()}@LUMEN.example", "lumen.example")[0] == "c_0123456789abcdef01234567"
    other = signer.reply_local_part("c_ffffffffffffffffffffffff")
    forged = local.split(".")[0] + "." + other.split(".")[1]  # another conversation's signature
    assert signer.conversation_for(f"{forged}@lumen.example", "lumen.example") == (None, True)
    assert signer.conversation_for(f"{local}@elsewhere.example", "lumen.example") == (None, False)
    assert signer.conversation_for("help@lumen.example", "lumen.example") == (None, False)
    assert Signer("another secret").conversation_for(f"{local}@lumen.example", "lumen.example") == (None, True)


def test_link_signatures_cover_every_value() -> None:
    signer = Signer("secret")
    s = signer.sign("followup", "7", "yes")
    assert signer.check(s, "followup", "7", "yes")
    assert not signer.check(s, "followup", "7", "no") and not signer.check(s, "followup", "8", "yes")
    assert not signer.check(s[:-1], "followup", "7", "yes") and not signer.check(s, "confirm", "7", "yes")


def test_subjects_thread_as_replies() -> None:
    assert reply_subject("Broken lamp") == "Re: Broken lamp"
    assert reply_subject("RE: Broken lamp") == "RE: Broken lamp"
    assert reply_subject("") == "Re: Your support request"


def test_garbage_is_refused_or_parsed_never_an_exception() -> None:
    import random

    rng = random.Random(7)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(300)]
    samples += [b"From: =?utf-8?b?////?= <a@b.example>\r\nSubject: =?bogus?q?x?=\r\n\r\nhi",
                b"From: a@b.example\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe hi",
                b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
                b"From: a@b.example\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
                b"From: a@b.example\r\n" + b"X: " + b"y" * 5000 + b"\r\n\r\nbody"]
    for raw in samples:
        try:
            mail = parse_inbound(raw, 100_000)
        except MailRefused as refused:
            assert refused.code in (552, 554)
        else:
            assert isinstance(mail.text, str) and "@" in mail.sender
