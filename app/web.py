"""The staff pages' static files, served one way: `page()` for an HTML page, `asset()` for its CSS,
JavaScript and images, each from one folder of app/ui/ with one path guard and one set of headers.

The pages (console, editor, admin) load everything from this origin and nothing inline, so they share
one Content-Security-Policy. The widget has its own mechanism (app/routes/widget.py): it is framed by
customers' sites, versioned and compressed, and its CSP differs on purpose."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, Response

UI_ROOT = Path(__file__).resolve().parent / "ui"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
ASSET_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}


def page(folder: str, name: str, status_code: int = 200) -> HTMLResponse:
    """app/ui/<folder>/<name> as a page, with the staff pages' CSP and no caching."""
    return HTMLResponse((UI_ROOT / folder / name).read_text(encoding="utf-8"), status_code=status_code,
                        headers=PAGE_HEADERS)


def asset(folder: str, name: str) -> Response:
    """A file of app/ui/<folder>/ by name: only a direct child of that folder, of a known type (404 else)."""
    base = (UI_ROOT / folder).resolve()
    path = (base / name).resolve()
    if path.parent != base or path.suffix not in ASSET_TYPES or not path.is_file():
        raise HTTPException(404, "not found")
    return Response(path.read_bytes(), media_type=ASSET_TYPES[path.suffix],
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
