"""Sites: the websites a desk serves, each with a widget key, allowed origins and an identity secret.

Plain functions over the store, shared by the admin API, the `parley site` command and the
start-up safety check: origins are validated and matched here, secrets made and rotated here, and
every change is written with its audit entry (app/storage/sites.py).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from app.hours import HoursError, parse_hours
from app.storage.records import Site
from app.storage.sites import Audit

LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl")  # the widget's translations (widget/src/i18n.js, bot/replies.py)
KEY_PATTERN = r"^[A-Za-z0-9_-]{3,64}$"
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
ANY_ORIGIN = "*"


class SiteError(ValueError):
    """A refused site change; the message says what to fix."""


def normalize_origin(value: str, demo_mode: bool = False) -> str:
    """`https://shop.example.com`, `http://127.0.0.2:8001` or `https://*.example.com` (every subdomain,
    not the apex, as CSP reads it), lower-cased, without a trailing slash. `*` only in demo mode."""
    raw = value.strip()
    if len(raw) > 300:
        raise SiteError("an origin is at most 300 characters")
    if raw == ANY_ORIGIN:
        if not demo_mode:
            raise SiteError("`*` lets every website embed the chat; it is allowed only in demo mode (PARLEY_DEMO_MODE)")
        return ANY_ORIGIN
    if raw.startswith("*."):
        raw = "https://" + raw  # a bare subdomain pattern means HTTPS
    parts = urlsplit(raw.rstrip("/"))
    if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise SiteError(f"{value!r} is not an origin: use scheme://host[:port], e.g. https://shop.example.com")
    host, _, port = parts.netloc.lower().partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise SiteError(f"{value!r}: bad port")
    wildcard = host.startswith("*.")
    name = host[2:] if wildcard else host
    if "*" in name or not _HOST.match(name) or (wildcard and "." not in name):
        raise SiteError(f"{value!r}: bad host (a pattern is *.example.com: one leading *. before a domain)")
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def normalize_origins(values: list[str], demo_mode: bool = False) -> list[str]:
    out: list[str] = []
    for value in values:
        origin = normalize_origin(value, demo_mode)
        if origin not in out:
            out.append(origin)
    if len(out) > 50:
        raise SiteError("at most 50 allowed origins per site")
    return out


def origin_matches(origin: str | None, allowed: list[str]) -> bool:
    """Whether a browser's `Origin` is one of the site's origins or patterns."""
    if ANY_ORIGIN in allowed:
        return True
    if not origin:
        return False
    origin = origin.lower().rstrip("/")
    if origin in allowed:
        return True
    scheme, sep, rest = origin.partition("://")
    if not sep:
        return False
    host, _, port = rest.partition(":")
    for pattern in allowed:
        p_scheme, _, p_rest = pattern.partition("://")
        if not p_rest.startswith("*.") or p_scheme != scheme:
            continue
        p_host, _, p_port = p_rest[2:].partition(":")
        if p_port == port and host.endswith("." + p_host) and len(host) > len(p_host) + 1:
            return True
    return False


def new_key() -> str:
    return "site_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def script_tag(base_url: str, site: Site) -> str:
    """The one line a site owner pastes before </body>."""
    src = base_url.rstrip("/") + "/widget.js"
    lang = f' data-parley-lang="{html.escape(site.language)}"' if site.language != "en" else ""
    return f'<script src="{html.escape(src)}" data-parley-key="{html.escape(site.key)}"{lang} async></script>'


async def create_site(store: Any, who: Audit, *, name: str, allowed_origins: list[str], key: str | None = None,
                      identity_required: bool = False, language: str = "en",
                      business_hours: dict[str, Any] | None = None, demo_mode: bool = False) -> tuple[Site, str]:
    """Create a site with a new identity secret; returns it and the secret (shown this once)."""
    origins = normalize_origins(allowed_origins, demo_mode)
    if not origins:
        raise SiteError("give at least one allowed origin (the website that embeds the widget)")
    if language not in LANGUAGES:
        raise SiteError(f"language must be one of {', '.join(LANGUAGES)}")
    key = key or new_key()
    if not re.match(KEY_PATTERN, key):
        raise SiteError("a widget key is 3-64 letters, digits, - or _")
    hours = checked_hours(business_hours)
    secret = new_secret()
    site = await store.create_site(key, dict(name=name, allowed_origins=origins, identity_secret=secret,
                                             enforce_identity=identity_required, language=language, enabled=True,
                                             business_hours=hours),
                                   who, {"name": name, "allowed_origins": origins,
                                         "identity_required": identity_required, "language": language,
                                         "business_hours": hours})
    if site is None:
        raise SiteError(f"the widget key {key!r} is taken")
    return site, secret


def checked_hours(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """Business hours as typed, validated (app/hours.py) and in their normal JSON form."""
    try:
        hours = parse_hours(raw)
    except HoursError as exc:
        raise SiteError(f"business hours: {exc}") from None
    return hours.to_json() if hours is not None else None


async def update_site(store: Any, who: Audit, key: str, changes: dict[str, Any], demo_mode: bool = False) -> Site:
    """Apply `changes` (name, allowed_origins, identity_required, language, enabled, business_hours: a
    dict sets them, `{}` clears them: always open); audited as what changed."""
    current = await store.get_site(key)
    if current is None:
        raise LookupError(key)
    fields: dict[str, Any] = {}
    if changes.get("name") is not None:
        fields["name"] = changes["name"]
    if changes.get("allowed_origins") is not None:
        fields["allowed_origins"] = normalize_origins(changes["allowed_origins"], demo_mode)
        if not fields["allowed_origins"]:
            raise SiteError("give at least one allowed origin; disable the site to stop it")
    if changes.get("identity_required") is not None:
        fields["enforce_identity"] = bool(changes["identity_required"])
    if changes.get("language") is not None:
        if changes["language"] not in LANGUAGES:
            raise SiteError(f"language must be one of {', '.join(LANGUAGES)}")
        fields["language"] = changes["language"]
    if changes.get("business_hours") is not None:
        fields["business_hours"] = checked_hours(changes["business_hours"] or None)
    if changes.get("enabled") is not None:
        fields["enabled"] = bool(changes["enabled"])
        if fields["enabled"] and ANY_ORIGIN in fields.get("allowed_origins", current.allowed_origins) and not demo_mode:
            raise SiteError("this site allows every origin (`*`); set its allowed origins before enabling it")
    before = {"name": current.name, "allowed_origins": current.allowed_origins,
              "enforce_identity": current.enforce_identity, "language": current.language, "enabled": current.enabled,
              "business_hours": current.business_hours}
    diff = {k: {"from": before[k], "to": v} for k, v in fields.items() if before[k] != v}
    action = "site.updated"
    if set(diff) == {"enabled"}:
        action = "site.enabled" if fields["enabled"] else "site.disabled"
    site = await store.update_site(key, fields, who, action, diff)
    if site is None:
        raise LookupError(key)
    return site


async def rotate_secret(store: Any, who: Audit, key: str, grace_hours: float = 24) -> tuple[Site, str]:
    """A new identity secret; the old one keeps verifying for `grace_hours` (0 = at once no more)."""
    current = await store.get_site(key)
    if current is None:
        raise LookupError(key)
    secret = new_secret()
    until = datetime.now(timezone.utc) + timedelta(hours=grace_hours)
    site = await store.update_site(key, dict(identity_secret=secret, previous_identity_secret=current.identity_secret,
                                             previous_secret_expires_at=until if grace_hours > 0 else None),
                                   who, "site.secret_rotated", {"previous_valid_until": until.isoformat()
                                                                if grace_hours > 0 else None})
    if site is None:
        raise LookupError(key)
    return site, secret


def signed_identity(site: Site, user_id: str, email: str | None, name: str | None, user_hash: str | None,
                    now: datetime) -> list[str]:
    """Which of the attributes a host page claims its HMAC covers: all of those given when the hash is
    HMAC-SHA256(secret, "user_id\nemail\nname"), only `user_id` for the older hash over the user id
    alone, none otherwise. The current secret and, in its grace period, the previous one verify."""
    if not user_hash:
        return []
    shown = {"user_id": user_id, "email": email, "name": name}
    canonical = "\n".join([user_id, email or "", name or ""])  # no field holds a newline
    signed: list[str] = []
    for secret in site.identity_secrets(now):
        full = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
        legacy = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(full, user_hash):
            return [k for k, v in shown.items() if v]
        if hmac.compare_digest(legacy, user_hash):
            signed = ["user_id"]  # name and email stay claims
    return signed
