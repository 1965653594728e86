"""Running an ASGI app with uvicorn inside the current event loop, on a real socket.

The offline tools (the fake Telegram), the end-to-end tests and the benchmarks all need a server
that starts and stops with a block of async code; this is the one way they do it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

#: How long starting or stopping the server may take before it counts as hung.
START_STOP_SECONDS = 10.0


@asynccontextmanager
async def serve_in_loop(config: uvicorn.Config) -> AsyncIterator[int]:
    """Serve `config`'s app until the block ends; yields the bound port (port 0 picks one)."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_STOP_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # startup failed: raise its error
                await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        async with asyncio.timeout(START_STOP_SECONDS):
            await task
