"""How the bot's background workers wait between rounds: until woken, stopped, or the interval."""

from __future__ import annotations

import asyncio


async def nap(wake: asyncio.Event, stop: asyncio.Event, interval: float) -> None:
    """Return when `wake` or `stop` is set, or after `interval` seconds; `wake` is cleared."""
    waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
        wake.clear()
