"""The knowledge base: `parley kb import/export/tune`, and `parley eval`, which measures its answers by
running the benchmarks in bench/ as their own program (never imported by the product)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from app.cli.common import _settings, _with_runtime, _with_store, cli
from app.config import Settings

kb_cli = typer.Typer(help="Import and export knowledge-base articles.", no_args_is_help=True)


def load_drafts(path: Path, fmt: str, include_plain_intents: bool = False, mapping: dict[str, str] | None = None) -> Any:
    if fmt == "markdown":
        from knowledge_base.formats.markdown import load_markdown_folder

        return load_markdown_folder(path)
    if fmt == "rasa":
        from knowledge_base.formats.rasa import load_rasa_project

        return load_rasa_project(path, include_plain_intents=include_plain_intents)
    if fmt == "csv":
        from knowledge_base.formats.csv_format import load_csv

        try:
            return load_csv(path, mapping)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if fmt == "zendesk":
        from knowledge_base.formats.zendesk import load_zendesk

        return load_zendesk(path)
    raise typer.BadParameter(f"unknown format {fmt!r}")


@contextlib.contextmanager
def _import_progress(total: int) -> Any:
    """progress(done, total) for an import: a bar on a terminal, else one plain line per call
    (`imported 50/246 articles`), so a log or CI shows it advance."""
    if sys.stderr.isatty():
        with typer.progressbar(length=total, label="importing", file=sys.stderr) as bar:
            shown = [0]

            def advance(done: int, _total: int) -> None:
                bar.update(done - shown[0])
                shown[0] = done

            yield advance
        return

    def line(done: int, total: int) -> None:
        print(f"imported {done}/{total} articles", file=sys.stderr, flush=True)

    yield line


@kb_cli.command("import")
def kb_import(path: Path = typer.Argument(..., exists=True, help="A folder or file to import."),
              format: str = typer.Option("markdown", "--format", "-f", help="markdown, rasa, csv or zendesk"),
              column_map: Optional[str] = typer.Option(None, "--map", help="csv: field=Column pairs, e.g. question=Q,answer=A,category=Topic"),
              plain_intents: bool = typer.Option(False, help="rasa: import plain intents that have a response too."),
              status: Optional[str] = typer.Option(None, help="Override every article's status (draft, published)."),
              threads: int = typer.Option(0, min=0, max=64, help="Embedding threads for the import; 0 = every core.")
              ) -> None:
    """Import articles. Idempotent: re-importing updates changed articles and never duplicates.
    One bulk operation: articles are embedded and stored in groups, with a progress bar on a
    terminal and a line per group otherwise."""
    result = load_drafts(path, format, plain_intents, column_map)  # type: ignore[arg-type]
    for problem in result.problems:
        typer.echo(f"skipped {problem}", err=True)
    drafts = result.drafts
    if status:
        from dataclasses import replace

        drafts = [replace(d, status=status) for d in drafts]

    async def run(store: Any, knowledge: Any) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with _import_progress(len(drafts)) as progress:
            for _, outcome in await knowledge.import_drafts(drafts, progress=progress):
                counts[outcome] += 1
        await knowledge.save_index()
        return counts

    counts = asyncio.run(_with_runtime(run, threads or os.cpu_count() or 1))
    typer.echo(f"created {counts['created']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
               f"skipped {len(result.problems)}")
    if result.problems and not drafts:
        raise typer.Exit(1)


@kb_cli.command("export")
def kb_export(path: Path = typer.Argument(..., help="Folder to write Markdown files into.")) -> None:
    """Export every article as Markdown with YAML front matter."""
    from app.storage.sql import SqlStore
    from knowledge_base.formats.markdown import export_markdown_folder
    from knowledge_base.models import ArticleDraft

    async def run() -> int:
        store = SqlStore.from_url(_settings().database_url)
        try:
            articles = await store.list_articles()
        finally:
            await store.close()
        drafts = [ArticleDraft(a.id, a.title, a.body, a.category, tuple(a.questions), tuple(a.tags), a.status)
                  for a in articles]
        return export_markdown_folder(drafts, path)

    typer.echo(f"exported {asyncio.run(run())} articles to {path}")


@kb_cli.command("tune")
def kb_tune(steps: int = typer.Option(250, min=1, help="Training steps (32 articles x 2 questions each)."),
            lr: float = typer.Option(3e-5, help="Learning rate."),
            seed: int = typer.Option(0, help="Random seed."),
            output: Optional[Path] = typer.Option(None, help="Directory for the tuned model "
                                                  "(default: DATA_DIR/models/tuned-<time>).")) -> None:
    """Fine-tune the embedding model on the published articles' titles and example questions."""
    import time

    from knowledge_base.tuning import tune_model

    async def run(settings: Settings, store: Any, broker: Any) -> dict[str, list[str]]:
        return {a.id: [a.title, *a.questions] for a in await store.list_articles(status="published")}

    groups = asyncio.run(_with_store(run))
    settings = _settings()
    out = output or settings.data_dir / "models" / f"tuned-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        with typer.progressbar(length=steps, label="tuning", file=sys.stderr) as bar:
            report = tune_model(settings.embedding_model, groups, out, steps=steps, lr=lr, seed=seed,
                                threads=settings.embedding_threads, progress=lambda step, loss: bar.update(1))
    except ValueError as exc:
        typer.echo(f"cannot tune: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"tuned {report.articles} articles ({report.examples} questions), {steps} steps in "
               f"{report.seconds:.0f} s, final loss {report.final_loss:.3f}: {out}")
    typer.echo(f"use it with PARLEY_EMBEDDING_MODEL={out.resolve()} (the server re-embeds every article for a "
               "new model at start-up); re-check the thresholds with `parley eval`.")


@cli.command("eval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def eval_command(ctx: typer.Context) -> None:
    """Answer-quality benchmarks on public data (doc2dial, clinc150, banking77, helpdesk): `parley eval --help`.

    The benchmarks live in bench/ and run as their own program (`python -m bench`): the product never imports them."""
    import subprocess

    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args]))
