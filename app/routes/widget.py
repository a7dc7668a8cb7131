"""The embeddable customer chat widget: the loader, the chat frame's files, and a demo shop.

`GET /widget.js` is the one script a site owner pastes; it opens `GET /widget/frame.html` in an
iframe, which loads the rest of the chat UI from `GET /widget/{path}`. The files come from
`widget/dist/` (minified by `python widget/build.py`) when that copy is at least as new as
`widget/src/`, else straight from `widget/src/`, so a stale build can never be served.

Responses are gzipped here when the client accepts it, carry an ETag, and the chat frame's
asset URLs are rewritten with a content hash (`chat.js?v=...`) so assets can be cached for a
year while the loader and the frame page stay on a short cache.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import re
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

router = APIRouter(tags=["widget"])

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
SRC_DIR = WIDGET_DIR / "src"
DIST_DIR = WIDGET_DIR / "dist"
DEMO_DIR = WIDGET_DIR / "demo"

_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_SHORT = "public, max-age=300"
_IMMUTABLE = "public, max-age=31536000, immutable"
# Everything the chat frame loads comes from this origin (blob: is an attachment fetched with its token). Who may embed it (frame-ancestors) is
# decided per widget key from the site's allowed origins, see _frame_ancestors().
_FRAME_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors "
)
_ORIGIN = re.compile(r"^https?://(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?$")  # CSP reads *.example.com as we do
_ANCESTORS_TTL = 30.0
_ancestors: dict[str, tuple[float, str]] = {}
_ASSET_REF = re.compile(r'((?:src|href)=")([A-Za-z0-9_-]+\.(?:js|css))(")')
_SAFE_PARAM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gz: bytes
    etag: str
    media_type: str


_cache: dict[tuple[str, int, int], _Asset] = {}


def _pick(name: str) -> Path | None:
    """The file to serve for `name` (relative to the widget folder), or None.

    Resolves the path and refuses anything that escapes the folder (`..`, absolute paths,
    symlinks pointing outside).
    """
    if not name or "\x00" in name or "\\" in name:
        return None
    src_root = SRC_DIR.resolve()
    src = (src_root / name).resolve()
    if not src.is_relative_to(src_root) or not src.is_file():
        return None
    dist_root = DIST_DIR.resolve()
    dist = (dist_root / name).resolve()
    fresh = dist.is_relative_to(dist_root) and dist.is_file()
    if fresh and dist.stat().st_mtime >= src.stat().st_mtime:
        return dist
    return src


def _build(path: Path, transform: bool = False) -> _Asset:
    body = path.read_bytes()
    if transform:
        body = _version_assets(body)
    return _Asset(
        body=body,
        gz=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        media_type=_TYPES.get(path.suffix, "application/octet-stream"),
    )


def _load(path: Path) -> _Asset:
    """The file's bytes, gzipped copy and ETag, cached until the file changes."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    hit = _cache.get(key)
    if hit is None:
        hit = _build(path)
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = hit
    return hit


def _version_assets(page: bytes) -> bytes:
    """Append `?v=<content hash>` to the frame's own js/css references."""

    def repl(m: re.Match[str]) -> str:
        target = _pick(m.group(2))
        if target is None:
            return m.group(0)
        digest = _load(target).etag.strip('"')[:10]
        return f"{m.group(1)}{m.group(2)}?v={digest}{m.group(3)}"

    return _ASSET_REF.sub(repl, page.decode("utf-8")).encode("utf-8")


def _respond(
    request: Request, asset: _Asset, cache: str, extra: dict[str, str] | None = None
) -> Response:
    headers = {
        "Cache-Control": cache,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if extra:
        headers.update(extra)
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gz, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/widget.js", include_in_schema=False)
async def widget_loader(request: Request) -> Response:
    """The loader script site owners paste: `<script src=".../widget.js" data-parley-key=...>`."""
    path = _pick("loader.js")
    if path is None:
        raise HTTPException(status_code=404)
    return _respond(request, _load(path), _SHORT, {"Access-Control-Allow-Origin": "*"})


@router.get("/widget/{name:path}", include_in_schema=False)
async def widget_file(name: str, request: Request) -> Response:
    """Files of the chat UI that runs inside the widget iframe."""
    path = _pick(name)
    if path is None or path.suffix not in _TYPES:
        raise HTTPException(status_code=404)
    if path.suffix == ".html":
        csp = _FRAME_CSP + await _frame_ancestors(request)
        extra = {"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"}
        return _respond(request, _build(path, transform=True), "no-cache", extra)
    cache = _IMMUTABLE if request.query_params.get("v") else _SHORT
    return _respond(request, _load(path), cache)


async def _frame_ancestors(request: Request) -> str:
    """The pages allowed to embed the chat frame: the key's allowed origins.

    The widget's socket connects from this server's own origin, so the handshake `Origin` check
    cannot tell which site embeds the frame; the browser enforces this header instead. A site
    that allows "*" (the demo) can be embedded anywhere; an unknown key or an unreadable store
    allows only this server's own pages (the chat would be refused anyway).
    """
    key = request.query_params.get("key", "")
    services = getattr(request.app.state, "services", None)
    store = getattr(services, "store", None)
    if store is None:
        return "*"
    if not key:  # keyless chats are only possible when the server does not require a key
        required = getattr(getattr(services, "settings", None), "require_widget_key", False)
        return "'self'" if required else "*"
    now = time.monotonic()
    hit = _ancestors.get(key)
    if hit and hit[0] > now:
        return hit[1]
    try:
        site = await store.get_site(key)
    except Exception:  # noqa: BLE001 - fail closed, but still serve the page
        return "'self'"
    allowed = list(site.allowed_origins) if site and site.enabled else []
    if "*" in allowed:
        value = "*"
    else:
        value = " ".join(
            ["'self'", *(o.rstrip("/") for o in allowed if _ORIGIN.match(o.rstrip("/")))]
        )
    if len(_ancestors) > 1024:
        _ancestors.clear()
    _ancestors[key] = (now + _ANCESTORS_TTL, value)
    return value


def _demo_page(page: str, request: Request) -> Response:
    path = (DEMO_DIR / f"{page}.html").resolve()
    if (
        not _SAFE_PARAM.match(page)
        or not path.is_relative_to(DEMO_DIR.resolve())
        or not path.is_file()
    ):
        raise HTTPException(status_code=404)
    q = request.query_params
    # The demo embeds the widget exactly as a customer would; query parameters only let you try
    # other settings (?key=, ?lang=fr, ?position=left, ?color=%23059669).
    attrs = {
        "key": q.get("key", "demo") if _SAFE_PARAM.match(q.get("key", "demo")) else "demo",
        "color": q.get("color", "#2563eb")
        if _COLOR.match(q.get("color", "#2563eb"))
        else "#2563eb",
        "title": "Lumen & Loom",
        "greeting": "Hi! Questions about an order, delivery or your account? Ask away.",
        "position": "left" if q.get("position") == "left" else "right",
        "lang": q.get("lang", "en")
        if q.get("lang", "en") in {"en", "fr", "es", "de", "pt", "it"}
        else "en",
    }
    greetings = {"fr": "Bonjour ! Une question sur une commande, une livraison ou votre compte ?"}
    if attrs["lang"] != "en":  # other languages use the widget's own translated greeting
        attrs["greeting"] = greetings.get(attrs["lang"], "")
    attrs = {k: v for k, v in attrs.items() if v}
    tag = (
        '<script src="/widget.js"'
        + "".join(f' data-parley-{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
        + " async></script>"
    )
    body = path.read_text("utf-8").replace("<!--PARLEY_WIDGET-->", tag)
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/demo", include_in_schema=False)
async def demo_home(request: Request) -> Response:
    """A sample shop page with the widget embedded by one script tag."""
    return _demo_page("index", request)


@router.get("/demo/{page}", include_in_schema=False)
async def demo_page(page: str, request: Request) -> Response:
    """Other pages of the sample shop, to try navigation with a conversation in progress."""
    if page == "shop.css":
        return _respond(request, _load(DEMO_DIR / "shop.css"), _SHORT)
    return _demo_page(page, request)
