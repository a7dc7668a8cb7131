"""`python -m bench <dataset>` (also `parley eval <dataset>`): the answer-quality benchmarks on public data,
through the production decision path. bench imports the product; the product never imports bench."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from app.config import get_settings

cli = typer.Typer(add_completion=False)


@cli.command()
def main_command(dataset: str = typer.Argument(..., help="doc2dial (the primary benchmark), clinc150, banking77 or helpdesk"),
                 limit: Optional[int] = typer.Option(None, help="Score only N queries per split (a quick check)."),
                 baselines: bool = typer.Option(True, help="Also run TF-IDF+LR and MiniLM 1-NN."),
                 tune_steps: int = typer.Option(0, help="First fine-tune the model on the train split only "
                                                "(`parley kb tune`'s function); 0 = the configured model."),
                 backend: Optional[str] = typer.Option(None, help="torch, onnx-int8 or onnx; default "
                                                       "PARLEY_EMBEDDING_BACKEND."),
                 val_only: bool = typer.Option(False, help="Score the validation split only, with the shipped "
                                               "settings and val's choice (comparing models; test left alone).")) -> None:
    """Answer-quality benchmark on public data, with the production decision path."""
    import json
    import tempfile

    from bench import answer_quality as aq
    from app.runtime import bot_config, make_embedder

    try:
        settings = get_settings()
    except Exception as exc:  # bad configuration stops here with a readable message
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    if dataset not in ("doc2dial", "clinc150", "banking77", "helpdesk"):
        raise typer.BadParameter("dataset must be one of doc2dial, clinc150, banking77, helpdesk")
    if val_only and dataset not in ("doc2dial", "clinc150"):
        raise typer.BadParameter("--val-only is for doc2dial and clinc150")
    backend = backend or settings.embedding_backend
    if backend not in ("torch", "onnx-int8", "onnx"):
        raise typer.BadParameter("backend must be one of torch, onnx-int8, onnx")
    model, tuning = settings.embedding_model, None
    if tune_steps:
        from dataclasses import asdict

        from knowledge_base.tuning import tune_model

        if dataset == "doc2dial":
            raise typer.BadParameter("doc2dial has no example questions to tune on; run it without --tune-steps")
        train = {"clinc150": lambda: aq.load_clinc()["train"], "banking77": lambda: aq.load_banking77()["train"],
                 "helpdesk": lambda: [(t, n) for n, ts in aq.load_helpdesk().items()
                                      if n not in ("human_handoff", "out_of_scope") for t in ts]}[dataset]()
        out = Path(tempfile.mkdtemp(prefix=f"parley-tuned-{dataset}-"))
        tuning = asdict(tune_model(model, aq.train_groups(train), out, steps=tune_steps,
                                   threads=settings.embedding_threads))
        typer.echo(f"tuned on the {dataset} train split: {tuning}", err=True)
        model = str(out)
    embedder = make_embedder(settings, model=model, backend=backend)
    base = bot_config(settings)  # the server's own decision settings
    from bench.doc2dial import eval_doc2dial

    runs = {"doc2dial": lambda: eval_doc2dial(embedder, limit, baselines, val_only=val_only),
            "clinc150": lambda: aq.eval_clinc(embedder, base, limit, baselines, val_only=val_only),
            # with a model tuned on all of train, a 10-shot figure would not be 10-shot: not run
            "banking77": lambda: aq.eval_banking77(embedder, base, limit, baselines=baselines,
                                                   aggregate_k=settings.aggregate_k, classifier_c=settings.classifier_c,
                                                   seeds=() if tune_steps else (0, 1, 2, 3, 4)),
            "helpdesk": lambda: aq.eval_helpdesk(embedder, base, settings.aggregate_k, settings.classifier_c)}
    report = runs[dataset]()
    report["model"] = {"base": settings.embedding_model, "tuned": tuning, "backend": backend}
    path = aq.save(report)
    typer.echo(json.dumps({k: v for k, v in report.items() if k != "dataset"}, indent=2))
    typer.echo(f"saved {path}")


def main() -> None:
    cli()
