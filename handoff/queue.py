"""Queue positions and wait estimates, computed from plain values."""

from __future__ import annotations

import math


def estimated_wait_seconds(position: int, agents_online: int, handle_seconds: int) -> int | None:
    """Rough wait: cases ahead of you, shared among online agents. None when nobody is online."""
    if agents_online <= 0 or position <= 0:
        return None
    return int(math.ceil(position / agents_online) * handle_seconds / 2)
