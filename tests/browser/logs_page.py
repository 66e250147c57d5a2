"""The Execution Logs page as the tests see it: locators in the product's words.

Panel renders inside open shadow roots; Playwright's CSS locators reach into them.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


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
