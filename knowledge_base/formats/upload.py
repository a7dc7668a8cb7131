"""An uploaded import file (or a .zip of a folder), parsed by the same readers as `parley kb import`.

Zips are unpacked with limits on file count, total size and compression ratio, counting the bytes
actually inflated (the sizes a zip declares can lie), and no member may leave the unpack folder.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

from knowledge_base.models import ImportProblem, ImportResult

MAX_ZIP_MEMBERS = 5_000
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # in total
MAX_ZIP_RATIO = 100  # a member may expand to at most this many times its compressed size


def _extract_bounded(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], root: Path) -> str | None:
    """Extract with limits on total size and compression ratio, counting the bytes actually inflated
    (the sizes a zip declares can lie). Returns the problem, or None."""
    total = 0
    for member in members:
        if member.is_dir():
            continue
        target = root / member.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(member) as src, open(target, "wb") as out:
            while chunk := src.read(1 << 16):
                written += len(chunk)
                total += len(chunk)
                if total > MAX_UNZIPPED_BYTES:
                    return f"the zip expands to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB"
                if written > 1 << 20 and written > MAX_ZIP_RATIO * max(member.compress_size, 1):
                    return f"{member.filename!r} expands more than {MAX_ZIP_RATIO} times (a zip bomb?)"
                out.write(chunk)
    return None


def read_upload(fmt: str, filename: str, data: bytes, mapping: dict[str, str] | None) -> ImportResult:
    """Parse an uploaded file (or a .zip of a folder) with the same readers as `parley kb import`."""
    from knowledge_base.formats.csv_format import load_csv
    from knowledge_base.formats.markdown import load_markdown_folder
    from knowledge_base.formats.zendesk import load_zendesk

    name = Path(filename or f"upload.{fmt}").name
    with tempfile.TemporaryDirectory(prefix="parley-import-") as tmp:
        root = Path(tmp)
        if name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    members = zf.infolist()
                    if len(members) > MAX_ZIP_MEMBERS:
                        return ImportResult(problems=[ImportProblem(name, None, f"more than {MAX_ZIP_MEMBERS} files in the zip")])
                    for member in members:
                        target = (root / member.filename).resolve()
                        if not str(target).startswith(str(root.resolve())):
                            return ImportResult(problems=[ImportProblem(name, None, f"unsafe path {member.filename!r} in the zip")])
                    problem = _extract_bounded(zf, members, root)
                    if problem:
                        return ImportResult(problems=[ImportProblem(name, None, problem)])
            except zipfile.BadZipFile:
                return ImportResult(problems=[ImportProblem(name, None, "not a valid zip file")])
            target = root
        else:
            target = root / name
            target.write_bytes(data)
        if fmt == "markdown":
            result = load_markdown_folder(target)
        elif fmt == "csv":
            result = load_csv(target, mapping)
        elif fmt == "zendesk":
            result = load_zendesk(target)
        else:
            from knowledge_base.formats.rasa import load_rasa_project

            result = load_rasa_project(target)
        prefix = str(root) + "/"
        result.problems = [ImportProblem(p.source.replace(prefix, ""), p.line, p.message) for p in result.problems]
        result.drafts = [replace(d, source=(d.source or "").replace(prefix, "")) for d in result.drafts]
        return result
