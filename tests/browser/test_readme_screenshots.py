"""The README's pictures, taken from demo history served the way `flowlogs serve` serves it."""

from __future__ import annotations

import pytest
from conftest import screenshot_path
from logs_page import LogsPage
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_demo_page_shows_groups_tabs_and_an_ai_step(demo_server, browser, tmp_path):
    server, queries = demo_server
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    p = LogsPage(page, server.url).open()
    counts = queries.tab_counts()
    expect(p.tab("all").locator(".count")).to_have_text(f"{counts['all']:,}")
    expect(p.tab("failed").locator(".count")).to_have_text(f"{counts['failed']:,}")
    assert p.group_names() == queries.flow_groups().flow_name.tolist()

    flow = "Support Auto-Reply"
    newest = queries.executions(flow, limit=1).execution_id.iloc[0]
    p.open_execution(flow, newest)
    ai_step = page.locator(".step").filter(has=page.locator(".tokens")).first  # AI steps show their tokens
    ai_step.click()
    expect(ai_step).to_have_attribute("aria-expanded", "true")
    card = page.locator(".step-card.expanded")
    for label in ("System prompt", "User prompt", "AI reply"):
        expect(card).to_contain_text(label)
    page.mouse.move(0, 0)
    page.screenshot(path=str(screenshot_path("execution-logs.png", tmp_path)))
    page.close()


def test_demo_failed_step_shows_error_and_input(demo_server, browser, tmp_path):
    server, queries = demo_server
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    p = LogsPage(page, server.url).open()
    p.select_tab("failed")
    failure = queries.failures().query("cause == 'invalid_phone'").iloc[0]
    p.open_execution(failure.flow_name, failure.execution_id)
    p.expand_step(int(failure.failed_step_index))
    card = page.locator(".step-card.expanded")
    expect(card).to_contain_text("Error message")
    expect(card).to_contain_text(failure.error)
    expect(card.locator(".json-tree").first).to_be_visible()
    page.mouse.move(0, 0)
    page.screenshot(path=str(screenshot_path("failed-step.png", tmp_path)))
    page.close()
