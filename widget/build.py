#!/usr/bin/env python3
"""Build the chat widget: widget/src/ -> widget/dist/ (comment and whitespace stripping only).

    python widget/build.py            # build and print sizes
    python widget/build.py --check    # also exit 1 when a size budget is exceeded

Writes widget/dist/sizes.json with the raw and gzipped size of every file, the totals and the
budgets. Pure standard library, no npm. The server (app/routes/widget.py) serves dist/ when it
is at least as new as src/, else src/ directly, so building is an optimisation, never required.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
DIST = HERE / "dist"

LOADER = "loader.js"
WIDGET_FILES = ("loader.js", "frame.html", "chat.js", "chat.css", "i18n.js")
BUDGET_LOADER_GZ = 5 * 1024
BUDGET_TOTAL_GZ = 30 * 1024

# After one of these characters (or a keyword below), a `/` starts a regular expression literal.
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = (
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
)


def strip_js(code: str) -> str:
    """Remove comments (keeping `/*! ... */` notices) and indentation; keep line breaks.

    A small tokenizer walks strings, template literals and regex literals so that comment-like
    text inside them is never touched. Line breaks are kept, so automatic semicolon insertion
    behaves exactly as in the source.
    """
    out: list[str] = []
    i, n = 0, len(code)
    last_sig = ""  # last significant (non-space) output character, for the regex heuristic
    word = ""  # last identifier written, for `return /re/` and friends
    while i < n:
        c = code[i]
        nxt = code[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "*":
            end = code.find("*/", i + 2)
            end = n if end < 0 else end + 2
            if code.startswith("/*!", i):
                out.append(code[i:end])
            i = end
            continue
        if c == "/" and nxt == "/":
            while i < n and code[i] != "\n":
                i += 1
            continue
        if c in "'\"`":
            j = i + 1
            while j < n and code[j] != c:
                j += 2 if code[j] == "\\" else 1
            out.append(code[i : j + 1])
            i = j + 1
            last_sig, word = c, ""
            continue
        if c == "/" and (last_sig == "" or last_sig in _REGEX_AFTER or word in _REGEX_KEYWORDS):
            j, in_class = i + 1, False
            while j < n:
                ch = code[j]
                if ch == "\\":
                    j += 2
                    continue
                if ch == "[":
                    in_class = True
                elif ch == "]":
                    in_class = False
                elif ch == "/" and not in_class:
                    break
                elif ch == "\n":
                    raise ValueError(f"unterminated regex literal at offset {i}")
                j += 1
            j += 1
            while j < n and (code[j].isalnum()):
                j += 1
            out.append(code[i:j])
            i = j
            last_sig, word = "/", ""
            continue
        prev = out[-1][-1:] if out else ""
        out.append(c)
        if c.isalnum() or c in "_$":
            word = word + c if (prev.isalnum() or prev in ("_", "$")) and prev else c
        elif not c.isspace():
            word = ""
        if not c.isspace():
            last_sig = c
        i += 1
    lines = (line.strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def strip_css(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,])\s*", r"\1", css)
    return css.replace(";}", "}").strip() + "\n"


def strip_html(page: str) -> str:
    page = re.sub(r"<!--(?!PARLEY).*?-->", "", page, flags=re.DOTALL)
    lines = (line.strip() for line in page.splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def minify(name: str, text: str) -> str:
    if name.endswith(".js"):
        return strip_js(text)
    if name.endswith(".css"):
        return strip_css(text)
    if name.endswith(".html"):
        return strip_html(text)
    return text


def gz_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def measure(folder: Path) -> dict[str, dict[str, int]]:
    sizes = {}
    for name in WIDGET_FILES:
        data = (folder / name).read_bytes()
        sizes[name] = {"raw": len(data), "gzip": gz_size(data)}
    return sizes


def report(sizes: dict[str, dict[str, int]]) -> dict[str, object]:
    total_raw = sum(s["raw"] for s in sizes.values())
    total_gz = sum(s["gzip"] for s in sizes.values())
    return {
        "files": sizes,
        "total": {"raw": total_raw, "gzip": total_gz},
        "budget": {
            "loader_gzip_max": BUDGET_LOADER_GZ,
            "total_gzip_max": BUDGET_TOTAL_GZ,
            "loader_ok": sizes[LOADER]["gzip"] <= BUDGET_LOADER_GZ,
            "total_ok": total_gz <= BUDGET_TOTAL_GZ,
        },
    }


def build(dist: Path = DIST) -> dict[str, object]:
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    for path in sorted(SRC.iterdir()):
        if path.is_file():
            (dist / path.name).write_text(minify(path.name, path.read_text("utf-8")), "utf-8")
    result = {"dist": report(measure(dist)), "src": report(measure(SRC))}
    (dist / "sizes.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a size budget is exceeded")
    parser.add_argument(
        "--out", type=Path, default=DIST, help="output folder (default widget/dist)"
    )
    args = parser.parse_args(argv)
    result = build(args.out)
    dist = result["dist"]
    for name, s in dist["files"].items():  # type: ignore[union-attr]
        print(f"{name:12} {s['raw']:>7} B raw {s['gzip']:>6} B gzip")
    total = dist["total"]  # type: ignore[index]
    print(f"{'total':12} {total['raw']:>7} B raw {total['gzip']:>6} B gzip")
    budget = dist["budget"]  # type: ignore[index]
    ok = budget["loader_ok"] and budget["total_ok"]
    print("budget: loader <= 5 KiB gz, widget <= 30 KiB gz:", "OK" if ok else "EXCEEDED")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
