"""What leaves the desk for a webhook receiver: the destination check (no loopback or private
addresses unless PARLEY_WEBHOOK_ALLOW_PRIVATE), the checked address the request is pinned to, and
the Parley-Signature header (with `verify`, what a receiver does).

Signature (as Stripe's): `Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
with a second `v1=` during a secret rotation's grace period.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_HEADER = "Parley-Signature"
USER_AGENT = "Parley-Webhooks/1"


class WebhookError(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secrets_: list[str], timestamp: int, body: str) -> str:
    """The Parley-Signature header for `body` sent at `timestamp`, one v1 per secret."""
    signed = f"{timestamp}.{body}".encode()
    return ",".join([f"t={timestamp}", *(f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}"
                                          for s in secrets_)])


def verify(secret: str, header: str, body: str, tolerance_seconds: float = 300, now: float | None = None) -> bool:
    """What a receiver does (and the tests): a v1 signature matches and the timestamp is recent."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs((now or time.time()) - int(stamps[0])) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{stamps[0]}.{body}".encode(), hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


# ----------------------------------------------------------------------------- URLs and SSRF
def check_url(url: str) -> str:
    """A webhook URL's form: http(s), a host, no credentials or fragment, at most 2000 characters."""
    if len(url) > 2000 or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookError("the URL must be at most 2000 characters without spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("the URL must start with https:// (or http://) and name a host")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("the URL must not carry credentials; the signature authenticates the desk")
    if parts.fragment:
        raise WebhookError("the URL must not have a #fragment")
    if port == 0:
        raise WebhookError("not a valid port")
    return url


def address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    return allow_private or ip.is_global


async def resolve(url: str, allow_private: bool) -> str:
    """The address to connect to for `url`: every address its host resolves to must be allowed
    (a name that resolves to a private address as well as a public one is refused)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookError(f"cannot resolve {host}")
    refused = [a for a in addresses if not address_allowed(a, allow_private)]
    if refused:
        raise WebhookError(f"{host} resolves to a non-public address ({refused[0]}); refused "
                           "(PARLEY_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    return addresses[0]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL rewritten to the checked address, with the Host header and TLS name of the original."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), headers, extensions


def check_destination(url: str, allow_private: bool) -> str:
    """A URL whose host is an address (or localhost) is checked at once; a name is checked when it is
    resolved, at every delivery (its DNS answer may change)."""
    host = (urlsplit(check_url(url)).hostname or "").lower()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if not allow_private and (host == "localhost" or host.endswith(".localhost")
                              or (literal is not None and not address_allowed(str(literal), False))):
        raise WebhookError(f"{host} is not a public address; refused (PARLEY_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    return url
