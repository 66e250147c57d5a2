"""Running a coroutine from a test."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_in_own_loop(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright (sync API) keeps an event
    loop running in the main thread for the whole session, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
