"""A deadline for each request's head, on uvicorn's own HTTP protocol.

uvicorn closes a keep-alive connection that stays idle between requests, but not one that never
finishes sending its request line and headers: a client that opens sockets and trickles a byte of
header every few seconds (slowloris) holds a file descriptor and a protocol object for as long as it
likes. Here every request's head (request line and headers, the websocket handshake included) must
arrive within `PARLEY_HEADER_TIMEOUT_SECONDS` of its first byte, and a new connection must start its
first request within the same time; otherwise the connection is closed. Bodies are not covered: a
route reads its own body with its own limit (app/bodylimit.py).
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("parley.http")


def _timeout() -> float:
    from app.config import get_settings

    return get_settings().header_timeout_seconds


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request-head deadline (pass as `http=` to uvicorn)."""

    _head_timer: asyncio.TimerHandle | None = None
    _head_timeout: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a keep-alive connection's next request: its head has the same deadline

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            if self._head_timeout is None:
                self._head_timeout = _timeout()
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport is not None and not self.transport.is_closing():
            peer = self.client[0] if self.client else "?"
            log.info("closed a connection whose request head did not arrive in time",
                     extra={"client": peer, "timeout_s": self._head_timeout})
            self.transport.close()
