"""Reading the Execution Logs page: groups, tabs, executions, the detail panel, links, untrusted text.

These tests share one server (started with `panel serve dashboard/app.py`) and never change data.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from logs_page import LogsPage, expect_ago
from planted import (
    AI_REPLY,
    IMG,
    SCRIPT,
    SEND_ERROR,
    SQL,
    SYSTEM_PROMPT,
    XSS_ERROR,
    XSS_FLOW,
    XSS_NODE,
    XSS_REPLY,
)
from playwright.sync_api import expect

from dashboard.queries import LogQueries
from dashboard.store import Store

pytestmark = pytest.mark.browser


@pytest.fixture
def logs_page(shared_server, page) -> LogsPage:
    return LogsPage(page, shared_server.url).open()


def test_flow_groups_show_runs_latest_status_failures_and_age(logs_page, shared_server):
    p, logs = logs_page, shared_server.logs
    assert {tab: p.count(tab) for tab in logs.counts} == logs.counts
    names = p.group_names()
    assert set(names) == set(logs.runs)
    # most recent activity on top: the two running executions started a minute or two ago
    assert names[:4] == ["Daily digest", "Lead follow-up", XSS_FLOW, "Order reminder"]

    order = p.group("Order reminder")
    expect(order.locator(".flow-name")).to_have_text("Order reminder")
    expect(order.locator(".runs")).to_have_text("30 runs")
    expect(order.locator(".chip")).to_have_text("Completed")  # its latest run
    expect(order.locator(".failure-dot")).to_have_count(1)
    # ages from the stored times and the clock at the moment of the check, never from when the module started
    last_activity = {r.flow_name: r.last_activity_at.to_pydatetime()
                     for r in LogQueries(Store(shared_server.data)).flow_groups().itertuples()}
    expect_ago(order.locator(".ago"), last_activity["Order reminder"])
    expect(p.group("Support auto-reply").locator(".failure-dot")).to_have_count(0)
    expect(p.group("Daily digest").locator(".chip")).to_have_text("Running")
    expect_ago(p.group("Daily digest").locator(".ago"), last_activity["Daily digest"])
    assert p.page.errors == []


def test_the_page_loads_no_mathjax_and_shows_tex_in_logs_as_written(shared_server, page):
    """Panel sends MathJax (1.8 MB) to any page with an HTML pane; ours render no math (ui/bundle.py)."""
    scripts = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    p = LogsPage(page, shared_server.url).open()
    assert any("bokeh.min.js" in url for url in scripts)
    assert not [url for url in scripts if "mathjax" in url.lower()]
    p.open_execution(XSS_FLOW, shared_server.logs.xss_execution)
    p.expand_step(0)
    expect(page.locator(".step-card.expanded")).to_contain_text(r"$$\frac{1}{2}$$ and \(x^2\) off")


def test_filter_tabs_filter_groups_and_their_executions(logs_page, shared_server):
    p, logs = logs_page, shared_server.logs

    p.select_tab("failed")
    assert set(p.group_names()) == {"Order reminder", XSS_FLOW}
    expect(p.group("Order reminder").locator(".runs")).to_have_text("2 runs")
    rows = p.expand("Order reminder")
    expect(rows).to_have_count(2)
    assert {r.get_attribute("data-status") for r in rows.all()} == {"completed_with_errors"}
    expect(rows.first.locator(".col-failed .failed-count")).to_have_text("1")  # messages failed, in red

    p.select_tab("running")
    assert set(p.group_names()) == {"Daily digest", "Lead follow-up"}
    rows = p.expand("Lead follow-up")
    expect(rows).to_have_count(1)
    duration = rows.first.locator(".col-duration")
    before = duration.inner_text()
    time.sleep(1.6)
    assert duration.inner_text() != before  # a running execution's duration ticks

    p.select_tab("completed")
    assert set(p.group_names()) == set(logs.runs) - {XSS_FLOW}
    expect(p.group("Daily digest").locator(".runs")).to_have_text("1 run")
    expect(p.group("Lead follow-up").locator(".runs")).to_have_text("4 runs")  # one of them cancelled
    expect(p.rows("Lead follow-up")).to_have_count(4)  # still expanded, now with this tab's executions

    p.select_tab("all")
    expect(p.rows("Lead follow-up")).to_have_count(5)
    assert {tab: p.count(tab) for tab in logs.counts} == logs.counts


def test_executions_show_trigger_duration_messages_and_page(logs_page):
    p = logs_page
    rows = p.expand("Support auto-reply")
    expect(rows).to_have_count(7)
    first = rows.first
    expect(first.locator(".col-trigger")).to_contain_text("Message")
    expect(first.locator(".col-trigger .phone")).to_have_text("+4915112345678")
    expect(first.locator(".col-status .chip")).to_have_text("Completed")
    expect(first.locator(".col-duration")).to_have_text(re.compile(r"^\d+(\.\d)? s$"))
    expect(first.locator(".col-sent .sent")).to_have_text("2")  # green
    expect(first.locator(".col-failed .zero")).to_have_text("0")

    rows = p.expand("Order reminder")  # 30 runs: pages of 25
    expect(rows).to_have_count(25)
    pager = p.page.locator("[data-rows-of='Order reminder'] .pager")
    expect(pager.locator(".range")).to_have_text("1–25 of 30")
    expect(rows.first.locator(".col-trigger")).to_contain_text("Schedule")
    pager.locator(".next").click()
    expect(rows).to_have_count(5)
    expect(pager.locator(".range")).to_have_text("26–30 of 30")
    expect(pager.locator(".next")).to_be_disabled()
    pager.locator(".prev").click()
    expect(rows).to_have_count(25)


def test_detail_panel_shows_every_step_and_an_ai_step_in_full(logs_page, shared_server):
    p, logs = logs_page, shared_server.logs
    p.open_execution("Support auto-reply", logs.ai_execution)
    summary = p.page.locator(".summary")
    expect(summary.locator(".flow-name")).to_have_text("Support auto-reply")
    expect(summary).to_contain_text("Completed")
    expect(summary).to_contain_text("Incoming message")
    expect(summary).to_contain_text("+4915112345678")
    expect(summary).to_contain_text("2 sent")
    expect(p.row(logs.ai_execution)).to_have_class(re.compile(r"\bselected\b"))

    steps = p.steps()
    expect(steps).to_have_count(3)
    expect(steps.locator(".node-name")).to_have_text(["Receive Message", "AI Response", "Send Message"])
    expect(steps.locator(".node-type")).to_have_text(["Incoming Message", "AI Response", "Send Message"])
    expect(p.step(1).locator(".tokens")).to_have_text("508 tokens")
    expect(p.step(1).locator(".chip")).to_have_text("Completed")
    expect(p.step(1).locator(".duration")).to_have_text("1.2 s")

    details = p.expand_step(1)
    for text in ("System prompt", SYSTEM_PROMPT, "User prompt", "Where is my order #1042?", "AI reply", AI_REPLY,
                 "gpt-4o-mini", "508 (412 prompt + 96 completion)", "Input data", "Output data"):
        expect(p.page.locator(".step-card.expanded")).to_contain_text(text)
    expect(details).to_contain_text(AI_REPLY)
    expect(p.page.locator(".step-card.expanded .json-tree").first).to_contain_text("Ana")
    p.page.mouse.move(0, 0)
    assert p.page.errors == []


def test_failed_step_shows_its_error_and_input(logs_page, shared_server):
    p, logs = logs_page, shared_server.logs
    p.select_tab("failed")
    p.open_execution("Order reminder", logs.failed_execution)
    expect(p.page.locator(".summary")).to_contain_text("Completed with errors")
    failed = p.step(1)
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed.locator(".chip")).to_have_text("Failed")
    expect(failed.locator(".node-name")).to_have_css("color", "rgb(185, 28, 28)")  # red

    p.expand_step(1)
    card = p.page.locator(".step-card.expanded")
    expect(card).to_contain_text("Error message")
    expect(card).to_contain_text(SEND_ERROR)
    expect(card).to_contain_text("contact has no first name; used 'there'")  # the warning
    tree = card.locator(".json-tree").first  # input data
    for text in ("Bruno", "+1 555 0100", "order_reminder"):
        expect(tree).to_contain_text(text)
    p.page.mouse.move(0, 0)
    p.page.set_viewport_size({"width": 1600, "height": 1200})  # the error and the whole input in view
    card.locator(".json-tree").last.scroll_into_view_if_needed()  # below the find bar: the user scrolls
    expect(card.locator(".json-tree").last).to_be_in_viewport()


def test_a_shared_link_reopens_the_same_execution(logs_page, shared_server, browser):
    p, logs = logs_page, shared_server.logs
    p.select_tab("failed")
    p.open_execution("Order reminder", logs.failed_execution)
    expect(p.page).to_have_url(re.compile(r"execution=" + logs.failed_execution))
    link = p.page.url

    p.page.reload()  # the same browser, after a reload
    p.wait_loaded()
    p.wait_detail(logs.failed_execution)

    other = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()  # someone it was sent to
    try:
        q = LogsPage(other, link).open()
        q.wait_detail(logs.failed_execution)
        expect(q.tab("failed")).to_have_attribute("aria-selected", "true")
        expect(q.group("Order reminder")).to_have_attribute("aria-expanded", "true")
        expect(q.row(logs.failed_execution)).to_have_class(re.compile(r"\bselected\b"))
    finally:
        other.context.close()


def test_log_strings_are_shown_as_text_and_never_run(logs_page, shared_server):
    p, logs = logs_page, shared_server.logs
    expect(p.group(XSS_FLOW).locator(".flow-name")).to_have_text(XSS_FLOW)
    p.open_execution(XSS_FLOW, logs.xss_execution)  # the flow name reaches SQL as a bound parameter
    expect(p.page.locator(".summary .flow-name")).to_have_text(XSS_FLOW)
    expect(p.step(0).locator(".node-name")).to_have_text(XSS_NODE)

    p.expand_step(0)
    card = p.page.locator(".step-card.expanded")
    for text in (XSS_REPLY, f"Hi {SCRIPT}", f"Never run {SQL}"):
        expect(card).to_contain_text(text)
    tree = card.locator(".json-tree").first
    for text in (SCRIPT, IMG, SQL):
        expect(tree).to_contain_text(json.dumps(text)[1:-1])  # JSON strings, shown as JSON writes them

    p.step(0).click()  # collapse it; open the failed one
    p.expand_step(1)
    expect(p.page.locator(".step-card.expanded")).to_contain_text(XSS_ERROR)

    assert p.page.evaluate("typeof window.__xss") == "undefined"
    assert p.page.locator("img[src=x]").count() == 0
    assert p.page.evaluate("""() => {
        const found = [];
        const walk = (root) => root.querySelectorAll("*").forEach((e) => {
            if (e.tagName === "SCRIPT" && e.textContent.includes("__xss")) found.push(e);
            if (e.shadowRoot) walk(e.shadowRoot);
        });
        walk(document);
        return found.length;
    }""") == 0
    assert p.page.errors == []
