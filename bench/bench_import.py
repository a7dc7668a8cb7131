"""`parley kb import` of a prose help centre: the 246 doc2dial pages, and 1,000 articles built from them.

The doc2dial pages (../shared/datasets/doc2dial/articles.jsonl, never copied into the repository)
are written once to a temporary folder of Markdown files; the 1,000-article folder adds 754
articles, each the first half of one page's sections followed by the second half of another's, so
the text stays real prose of the same length. Each timing is a fresh SQLite database and a fresh
data directory (the ONNX export is shared and made beforehand, as after a first start), through
the real command:

    .venv/bin/python -m bench.bench_import             # writes bench/results/import.json
    .venv/bin/python -m bench.bench_import --write-only /tmp/d2d   # just the folders (d2d-246, d2d-1000)
    .venv/bin/python -m pytest bench/bench_import.py -m benchmark
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench.harness import MODEL_CACHE

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "bench" / "results"
PARLEY = ROOT / ".venv" / "bin" / "parley"


def doc2dial_pages() -> list[dict[str, str]]:
    text = (DATASETS / "doc2dial" / "articles.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n\n") if p.strip()] or [body]


def help_centre(n: int) -> list[dict[str, str]]:
    """`n` articles: the doc2dial pages first, then pages spliced from two of them."""
    pages = doc2dial_pages()
    articles = [{"id": p["id"], "title": p["title"], "body": p["body"]} for p in pages[:n]]
    rng = random.Random(11)
    while len(articles) < n:
        a, b = rng.sample(pages, 2)
        pa, pb = _paragraphs(a["body"]), _paragraphs(b["body"])
        body = "\n\n".join(pa[: max(1, len(pa) // 2)] + pb[len(pb) // 2:])
        i = len(articles)
        articles.append({"id": f"mix-{i:04d}", "title": f"{a['title']} and {b['title']}"[:280], "body": body})
    return articles


def write_folder(folder: Path, articles: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for a in articles:
        title = json.dumps(a["title"])  # a JSON string is a YAML string
        (folder / f"{a['id']}.md").write_text(f"---\nid: {a['id']}\ntitle: {title}\n---\n{a['body']}\n",
                                             encoding="utf-8")
    return folder


def time_import(folder: Path, work: Path, models: Path) -> dict[str, object]:
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PARLEY_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'parley.db'}",
           "PARLEY_DATA_DIR": str(work / "data"), "PARLEY_MODEL_CACHE_DIR": str(models), "HF_HUB_OFFLINE": "1"}
    subprocess.run([str(PARLEY), "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([str(PARLEY), "kb", "import", str(folder)], env=env, check=True, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "summary": done.stdout.strip().splitlines()[-1],
            "progress_lines": sum(1 for line in done.stderr.splitlines() if line.startswith("imported "))}


def run(sizes: tuple[int, ...] = (246, 1000)) -> dict[str, object]:
    base = Path(tempfile.mkdtemp(prefix="parley-import-"))
    models = Path(os.environ.get("PARLEY_MODEL_CACHE_DIR", MODEL_CACHE))
    # the export happens once per machine (the first start); it is not part of an import
    warm = write_folder(base / "warm", help_centre(1))
    time_import(warm, base / "warm-db", models)
    out: dict[str, object] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    for n in sizes:
        folder = write_folder(base / f"d2d-{n}", help_centre(n))
        out[f"articles_{n}"] = time_import(folder, base / f"db-{n}", models)
        print(n, out[f"articles_{n}"], file=sys.stderr)
    return out


@pytest.mark.benchmark
def test_import_speed() -> None:
    result = run()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    assert result["articles_246"]["seconds"] <= 15  # type: ignore[index]
    assert result["articles_1000"]["seconds"] <= 60  # type: ignore[index]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-only", type=Path, help="only write the Markdown folders under this directory")
    args = parser.parse_args()
    if args.write_only:
        for n in (246, 1000):
            print(write_folder(args.write_only / f"d2d-{n}", help_centre(n)))
    else:
        result = run()
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "import.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result, indent=2))
