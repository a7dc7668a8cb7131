"""Stopping background tasks: one way for every job of the runtime."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks and wait until each has finished; what they raised on the way out is
    theirs to have logged (a job stopping does not fail the shutdown). None entries are skipped."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
