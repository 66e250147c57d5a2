"""The page components' Loader: under a stream of refreshes it keeps showing new data, and a
click (another tab) is never answered with the result of what was shown before it."""

from __future__ import annotations

import asyncio

from dashboard.ui.loader import Loader
from tests.loops import run_in_own_loop


class Source:
    """A load that takes `seconds` and returns what the view is asked to show when it starts."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.view = "all"
        self.started = 0

    async def load(self):
        self.started += 1
        asked, number = self.view, self.started
        await asyncio.sleep(self.seconds)
        return asked, number


def test_results_keep_coming_while_refreshes_arrive_faster_than_a_load_takes():
    async def stream():
        source, shown = Source(0.05), []
        loader = Loader(source.load, shown.append)
        for _ in range(25):  # a refresh every 20 ms, each load 50 ms: every result is overtaken
            loader.request(auto=True)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        return shown, source.started

    shown, started = run_in_own_loop(stream())
    assert len(shown) >= 5, "overtaken results were dropped: the page would show nothing new during a stream"
    assert [n for _, n in shown] == sorted(n for _, n in shown) and shown[-1][1] == started  # the newest last


def test_a_result_overtaken_by_a_click_is_dropped_and_the_clicked_view_shown():
    async def click_during_a_load():
        source, shown = Source(0.05), []
        loader = Loader(source.load, shown.append)
        loader.request(auto=True)
        await asyncio.sleep(0.01)
        source.view = "failed"
        loader.request(spin=True)  # the user switched to another tab while the refresh loaded
        await asyncio.sleep(0.2)
        return shown, loader

    shown, loader = run_in_own_loop(click_during_a_load())
    assert shown == [("failed", 2)]
    assert loader.loads == 1


def test_auto_tells_the_view_whether_only_the_auto_refresh_asked():
    async def two_kinds():
        source, seen = Source(0.01), []
        loader = Loader(source.load, lambda _: seen.append(loader.auto))
        loader.request(auto=True)
        await asyncio.sleep(0.05)
        loader.request()  # a Refresh click or a delete
        await asyncio.sleep(0.05)
        return seen

    assert run_in_own_loop(two_kinds()) == [True, False]


def test_the_spinner_goes_once_the_asked_for_result_is_shown_even_while_refreshes_load_on():
    class Spinner:
        loading = False

    async def slow_first_load_then_a_stream():
        source, spinner, shown = Source(0.4), Spinner(), []
        loader = Loader(source.load, lambda r: shown.append((r, spinner.loading)), spinner=spinner)
        loader.request(spin=True)  # a click: past 0.3 s the spinner shows
        for _ in range(30):
            await asyncio.sleep(0.05)
            loader.request(auto=True)  # ... and the auto-refresh keeps asking meanwhile
        stayed = spinner.loading
        await asyncio.sleep(1.0)
        return shown, stayed, spinner.loading

    shown, stayed, after = run_in_own_loop(slow_first_load_then_a_stream())
    assert shown[0][1] is True  # the slow first load showed the spinner
    assert not stayed and not after, "the spinner stayed over data already shown (and took the clicks)"
