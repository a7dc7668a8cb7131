"""Graceful shutdown: on SIGTERM/SIGINT every open socket is closed with 1012 "reconnect" first.

uvicorn would drop sockets on shutdown anyway; closing them ourselves, before uvicorn stops,
gives clients a clear hint (code 1012, service restart, reason `reconnect`) to reconnect with
their token and last seq, which resumes the conversation on whichever server answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
from collections import Counter
from types import FrameType
from typing import Any, Callable

from fastapi import WebSocket
from starlette.websockets import WebSocketState

log = logging.getLogger("parley.shutdown")
SERVICE_RESTART = 1012
RECONNECT = "reconnect"


class SocketRegistry:
    """The open sockets of this process, by kind (`chat`, `agent`), and how many each key (a
    conversation), each client address and each kind has open (the per-process caps)."""

    def __init__(self, metrics: Any = None) -> None:
        self.sockets: dict[WebSocket, str] = {}
        self.keys: dict[WebSocket, str] = {}
        self.per_key: Counter[str] = Counter()
        self.ips: dict[WebSocket, str] = {}
        self.per_ip: Counter[str] = Counter()
        self.per_kind: Counter[str] = Counter()
        self.metrics = metrics
        self.closing = False
        self._previous: dict[int, Any] = {}

    def add(self, ws: WebSocket, kind: str, key: str | None = None, ip: str | None = None) -> None:
        if ws in self.sockets:
            return
        self.sockets[ws] = kind
        self.per_kind[kind] += 1
        if key is not None:
            self.set_key(ws, key)
        if ip is not None:
            self.ips[ws] = ip
            self.per_ip[ip] += 1
        if self.metrics is not None:
            self.metrics.ws_connections.labels(kind).inc()

    def set_key(self, ws: WebSocket, key: str) -> None:
        """Count a registered socket under its key (a conversation, known after the handshake)."""
        if ws in self.sockets and ws not in self.keys:
            self.keys[ws] = key
            self.per_key[key] += 1

    def count(self, key: str) -> int:
        return self.per_key[key]

    def count_ip(self, ip: str) -> int:
        return self.per_ip[ip]

    def count_kind(self, kind: str) -> int:
        return self.per_kind[kind]

    def discard(self, ws: WebSocket) -> None:
        kind = self.sockets.pop(ws, None)
        key = self.keys.pop(ws, None)
        ip = self.ips.pop(ws, None)
        for counter, name in ((self.per_key, key), (self.per_ip, ip), (self.per_kind, kind)):
            if name is not None:
                counter[name] -= 1
                if counter[name] <= 0:
                    del counter[name]
        if kind is not None and self.metrics is not None:
            self.metrics.ws_connections.labels(kind).dec()

    async def close_all(self, timeout: float = 3.0) -> int:
        self.closing = True
        open_now = [ws for ws in list(self.sockets) if ws.application_state == WebSocketState.CONNECTED]

        async def close(ws: WebSocket) -> None:
            try:
                await ws.close(SERVICE_RESTART, RECONNECT)
            except Exception:
                pass  # already gone

        if open_now:
            await asyncio.wait_for(asyncio.gather(*(close(ws) for ws in open_now)), timeout)
        log.info("closed %d sockets with %d %s", len(open_now), SERVICE_RESTART, RECONNECT)
        return len(open_now)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run close_all before the server's own signal handling (uvicorn's) takes over."""
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signals are only delivered to the main thread (e.g. not under a test client)
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            self._previous[sig] = previous

            def handler(signum: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
                if self.closing:  # a second signal: stop now
                    previous(signum, frame)
                    return
                self.closing = True

                async def drain() -> None:
                    try:
                        await self.close_all()
                    except Exception:
                        log.exception("closing sockets on shutdown failed")
                    finally:
                        self.closing = True
                        previous(signum, frame)

                loop.call_soon_threadsafe(lambda: asyncio.ensure_future(drain(), loop=loop), context=contextvars.Context())

            signal.signal(sig, handler)

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            try:
                signal.signal(sig, previous)
            except (ValueError, TypeError):
                pass
        self._previous.clear()
