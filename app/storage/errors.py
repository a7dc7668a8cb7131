"""What a store raises when it refuses a write; the desk and the routes turn these into error
frames and 4xx answers. Every storage module may raise them (app.storage.sql re-exports them)."""

from __future__ import annotations


class NotFound(Exception):
    pass


class Conflict(Exception):
    """A write refused because the state changed: `code` is the wire error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
