"""Contrastive fine-tuning of the sentence-transformers model on the articles' example questions.

Two example questions of the same article are a positive pair; the other pairs in the batch are its
negatives (multiple-negatives ranking loss, symmetric, every article at most once per batch, so no
false negatives). CPU, seeded, a plain torch loop. The tuned model is saved as a directory that
`PARLEY_EMBEDDING_MODEL` (or `load_embedder`) accepts.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge_base.embedder import resolve_model_path


@dataclass(frozen=True)
class TuneReport:
    base_model: str
    output: str
    steps: int
    lr: float
    batch_articles: int
    seed: int
    articles: int
    examples: int
    seconds: float
    final_loss: float


def tune_model(base_model: str, groups: Mapping[str, Sequence[str]], output: Path | str, steps: int = 250,
               lr: float = 3e-5, batch_articles: int = 32, scale: float = 20.0, seed: int = 0, threads: int = 1,
               progress: Callable[[int, float], None] | None = None) -> TuneReport:
    """Fine-tune `base_model` so that questions of the same article embed close together; save to `output`.

    `groups` maps an article (or intent) to its example questions; articles with fewer than two
    distinct questions cannot form a pair and are left out.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import numpy as np
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    usable = {name: sorted(set(q.strip() for q in qs if q.strip())) for name, qs in groups.items()}
    usable = {name: qs for name, qs in sorted(usable.items()) if len(qs) >= 2}
    if len(usable) < 2:
        raise ValueError("tuning needs at least two articles with two or more example questions each")
    if steps < 1:
        raise ValueError("steps must be at least 1")

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = random.Random(seed)
    model = SentenceTransformer(resolve_model_path(base_model), device="cpu")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))

    def encode(texts: list[str]) -> "torch.Tensor":
        features = model.tokenize(texts)
        return F.normalize(model(dict(features))["sentence_embedding"], dim=-1)

    names = list(usable)
    started = time.perf_counter()
    loss_value = float("nan")
    for step in range(steps):
        chosen = rng.sample(names, min(batch_articles, len(names)))
        pairs = [rng.sample(usable[name], 2) for name in chosen]
        anchors, positives = encode([a for a, _ in pairs]), encode([p for _, p in pairs])
        logits = anchors @ positives.T * scale
        target = torch.arange(len(pairs))
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        loss_value = float(loss.item())
        if progress is not None:
            progress(step, loss_value)

    model.eval()
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    report = TuneReport(base_model, str(out), steps, lr, batch_articles, seed, len(usable),
                        sum(len(q) for q in usable.values()), time.perf_counter() - started, loss_value)
    (out / "parley_tuning.json").write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    return report
