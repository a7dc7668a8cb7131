"""Where the customer is and what they use, for the agent's side panel.

The widget sends a `context` frame after `session` (page address and title, time zone, language);
the browser is read from the socket handshake's User-Agent and named in plain words here. Stored
with the conversation's contact under "context", so privacy exports carry it and erasure removes it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

MAX_USER_AGENT = 400

# (pattern, name): the first that matches names the browser; order matters (Edge and Opera say "Chrome" too).
_BROWSERS = [
    (re.compile(r"Edg(?:e|A|iOS)?/(\d+)"), "Edge"),
    (re.compile(r"(?:OPR|Opera)/(\d+)"), "Opera"),
    (re.compile(r"SamsungBrowser/(\d+)"), "Samsung Internet"),
    (re.compile(r"(?:Firefox|FxiOS)/(\d+)"), "Firefox"),
    (re.compile(r"CriOS/(\d+)"), "Chrome"),
    (re.compile(r"HeadlessChrome/(\d+)"), "Headless Chrome"),
    (re.compile(r"Chrom(?:e|ium)/(\d+)"), "Chrome"),
    (re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"), "Safari"),
]
_SYSTEMS = [
    (re.compile(r"Windows NT 10"), "Windows"),
    (re.compile(r"Windows NT 6\.3"), "Windows 8.1"),
    (re.compile(r"Windows NT 6\.1"), "Windows 7"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"iPhone|iPod"), "iPhone"),
    (re.compile(r"iPad"), "iPad"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"Linux"), "Linux"),
]


def describe_user_agent(user_agent: str) -> str | None:
    """'Chrome 120 on Windows', 'Safari 17 on iPhone', or None when nothing is recognised."""
    ua = user_agent[:MAX_USER_AGENT]
    browser = next((f"{name} {m.group(1)}" for pattern, name in _BROWSERS if (m := pattern.search(ua))), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


def page_address(url: str | None) -> str | None:
    """An http(s) page address without its query string and fragment (they may hold tokens), or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def valid_time_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # unknown or malformed key
        return None
    return name


def customer_context(page_url: str | None, page_title: str | None, time_zone: str | None, language: str | None,
                     user_agent: str) -> dict[str, Any]:
    """The stored context: only what validated; the raw user agent is kept short for support questions."""
    context: dict[str, Any] = {
        "page_url": page_address(page_url),
        "page_title": (page_title or "").strip()[:200] or None,
        "time_zone": valid_time_zone(time_zone),
        "language": language or None,
        "browser": describe_user_agent(user_agent) if user_agent else None,
        "user_agent": user_agent[:MAX_USER_AGENT] or None,
    }
    return {k: v for k, v in context.items() if v is not None}
