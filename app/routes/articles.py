"""The public article page that bot answers link to. (The editors' article API is app/routes/editor.py.)"""

from __future__ import annotations

import html

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from app.deps import StoreDep
from app.validation import Line

from knowledge_base.render import render_markdown

router = APIRouter(tags=["articles"])
__all__ = ["render_markdown", "router"]


@router.get("/kb/{article_id}", response_class=HTMLResponse, responses={404: {}})
async def public_article(article_id: Line, store: StoreDep) -> HTMLResponse:
    article = await store.get_article(article_id)
    if article is None or article.status != "published":
        raise HTTPException(404, "article not found")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(article.title)}</title>
<style>body{{font:16px/1.6 system-ui,sans-serif;max-width:720px;margin:40px auto;padding:0 20px;color:#1f2937}}
h1{{font-size:1.8rem;line-height:1.2}}.cat{{color:#6b7280;font-size:.9rem;text-transform:uppercase;letter-spacing:.05em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #e5e7eb;padding:6px 10px}}</style></head>
<body><div class="cat">{html.escape(article.category or "Help")}</div><h1>{html.escape(article.title)}</h1>
{render_markdown(article.body)}</body></html>"""
    return HTMLResponse(page, headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})
