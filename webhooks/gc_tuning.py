"""Garbage-collector settings for the long-running service process (`serve`, `run`).

CPython's cycle collector runs a young collection every 700 new container objects and, now
and then, a full one that walks every object alive: PTB, tortoise's metadata, the app. Under
callback load that full walk is the slowest thing the process does, and it lands on whichever
requests are in flight (bench/callbacks.py: p99 37-48 ms with the defaults, 24-25 ms with both
settings below, PostgreSQL, 32 connections). Two standard remedies:

* a larger young threshold (fewer, equally cheap young collections; garbage in cycles waits a
  little longer, memory stays flat: bench/memory.py);
* `gc.freeze()` once start-up is done: what exists then lives as long as the process, so it
  moves to a generation the collector no longer walks.

Tests build and tear down apps many times in one process, so only the CLI turns this on.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

#: New container objects between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def raise_young_threshold() -> None:
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


def freeze_startup_objects() -> int:
    """Collect once, then exempt everything alive from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("gc: %d start-up objects frozen", frozen)
    return frozen
