"""The Execution Logs page as the tests see it: locators in the product's words.

Panel renders inside open shadow roots; Playwright's CSS locators reach into them.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from playwright.sync_api import Locator, Page, expect

AGO_REDRAW_S = 10  # the flow list redraws its "N min ago" texts every 10 s (flow_groups.py's timer)


def css_string(value: str) -> str:
    """A CSS attribute value in quotes, whatever characters the log string holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ") + '"'


class LogsPage:
    def __init__(self, page: Page, url: str):
        self.page = page
        self.url = url

    def open(self, url: str | None = None) -> LogsPage:
        self.page.goto(url or self.url)
        self.wait_loaded()
        return self

    def wait_loaded(self) -> None:
        expect(self.tab("all").locator(".count")).not_to_have_text("…")
        expect(self.page.locator(".group, .groups .empty").first).to_be_attached()

    # -- tabs ---------------------------------------------------------------------------

    def tab(self, name: str) -> Locator:
        return self.page.locator(f"[role=tab][data-tab={name}]")

    def count(self, name: str) -> int:
        return int(self.tab(name).locator(".count").inner_text().replace(",", ""))

    def select_tab(self, name: str) -> None:
        self.tab(name).click()
        expect(self.tab(name)).to_have_attribute("aria-selected", "true")
        expect(self.page.locator(f".group[data-tab={name}], .groups .empty").first).to_be_attached()
        expect(self.page.locator(f".group:not([data-tab={name}])")).to_have_count(0)

    # -- flow groups ------------------------------------------------------------------------

    def groups(self) -> Locator:
        return self.page.locator(".group")

    def group_names(self) -> list[str]:
        return [g.get_attribute("data-flow") for g in self.groups().all()]

    def group(self, flow: str) -> Locator:
        return self.page.locator(f".group[data-flow={css_string(flow)}]")

    def expand(self, flow: str) -> Locator:
        """Expand a flow group; returns its execution rows once they are there."""
        group = self.group(flow)
        if group.get_attribute("aria-expanded") != "true":
            group.click()
        expect(group).to_have_attribute("aria-expanded", "true")
        rows = self.rows(flow)
        expect(rows.first).to_be_visible()
        return rows

    def rows(self, flow: str) -> Locator:
        return self.page.locator(f"[data-rows-of={css_string(flow)}] .execution-row")

    def row(self, execution_id: str) -> Locator:
        return self.page.locator(f".execution-row[data-execution-id={css_string(execution_id)}]")

    # -- detail panel -----------------------------------------------------------------------

    def open_execution(self, flow: str, execution_id: str) -> None:
        self.expand(flow)
        self.row(execution_id).click()
        self.wait_detail(execution_id)

    def wait_detail(self, execution_id: str) -> None:
        expect(self.page.locator(".summary .exec-id")).to_have_text(execution_id)
        expect(self.steps().first).to_be_visible()

    def steps(self) -> Locator:
        return self.page.locator(".step")

    def step(self, index: int) -> Locator:
        return self.page.locator(f".step[data-step='{index}']")

    def expand_step(self, index: int) -> Locator:
        """Expand a step; returns the locator of its details."""
        step = self.step(index)
        if step.get_attribute("aria-expanded") != "true":
            step.click()
        expect(step).to_have_attribute("aria-expanded", "true")
        details = self.page.locator(".step-card.expanded .step-details")
        expect(details.first).to_be_visible()
        return details

    def notice(self) -> Locator:
        return self.page.locator(".notice")

    # -- find: range, search, failure causes ---------------------------------------------------

    def search(self, text: str) -> None:
        box = self.page.locator(".search-box input")
        box.fill(text)
        box.press("Enter")
        self.wait_loaded()

    def search_text(self) -> str:
        return self.page.locator(".search-box input").input_value()

    def choose_range(self, label: str) -> None:
        button = self.page.locator(".find-bar .range-presets button", has_text=label)
        button.click()
        expect(button).to_have_class(re.compile(r"\bbk-active\b"))

    def cause_card(self, cause: str) -> Locator:
        return self.page.locator(f".failure-causes .card[data-cause={cause}]")

    def cause_count(self, cause: str) -> int:
        return int(self.cause_card(cause).locator(".count").inner_text().replace(",", ""))

    def expanded_ids(self, flow: str) -> set[str]:
        """The execution ids shown in an expanded group (its first page)."""
        return {r.get_attribute("data-execution-id") for r in self.expand(flow).all()}


# -- relative times ---------------------------------------------------------------------------


def ago_text(seconds: float) -> str:
    """The page's "N min ago" for an age in seconds (the Python twin of theme.py's fmtAgo)."""
    s = max(0, round(seconds))
    if s < 10:
        return "just now"
    if s < 60:
        return f"{s} s ago"
    m = s // 60
    if m < 60:
        return f"{m} min ago"
    h = m // 60
    return f"{h} h ago" if h < 24 else f"{h // 24} day{'' if h // 24 == 1 else 's'} ago"


def expect_ago(locator: Locator, when: dt.datetime, timeout: float = 15) -> None:
    """The locator says how long ago `when` was, by the clock at the moment each check reads the page.

    Never from a time taken when the test or its module started: on a loaded machine the page may be
    read minutes later. The page redraws the text every AGO_REDRAW_S seconds, so it may show the age
    of up to that many seconds (and one more for rounding) before the check."""
    deadline = time.monotonic() + timeout
    while True:
        shown = locator.inner_text().strip()
        age = (dt.datetime.now(dt.timezone.utc) - when).total_seconds()
        allowed = {ago_text(age - lag) for lag in range(AGO_REDRAW_S + 2)}
        if shown in allowed:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"shows {shown!r}; {when.isoformat()} was {sorted(allowed)} ago by the clock now")
        time.sleep(0.25)
