"""The detail panel's Timeline and Compare-with-last-success views, in headless Chromium.

The timeline's bars are counted in the browser from the Bokeh document (the data source
named `timeline-steps`, one row per bar). The comparison is checked on a planted case: a
template step whose input lost `variables.first_name` and got another phone number.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass

import pytest
from conftest import copy_logs, start_server
from logs_page import LogsPage, css_string
from planted import DOCS, IMG, SCRIPT, SQL, XSS_FLOW, XSS_NODE, Logs, _id_at
from playwright.sync_api import Page, expect

from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.writer import Writer

pytestmark = pytest.mark.browser

FLOW = "Order shipped"
TEMPLATE_ERROR = "Template variable {{first_name}} is missing for template 'order_shipped'"
GOOD_PHONE, BAD_PHONE = "+4915112345678", "+1 555 0100"


@dataclass
class Planted:
    logs: Logs
    success: str = ""  # Order shipped: completed, its template step had first_name
    failure: str = ""  # Order shipped: failed, first_name missing and another phone
    lonely_failure: str = ""  # a flow whose only run failed: nothing to compare with
    xss_success: str = ""  # a completed run of the XSS flow, before the planted failed one


def plant(logs: Logs, now: dt.datetime) -> Planted:
    """The comparison cases, recorded as a flow engine would, next to the shared planted logs."""
    planted = Planted(logs)
    clock = [now]
    recorder = Recorder(Writer(Store(logs.root), flush_interval=None), clock=lambda: clock[0])

    def run(flow, start, steps, *, phone=None):
        clock[0] = start
        trigger = "incoming_message" if phone else "schedule"
        with recorder.execution(flow, trigger=trigger, phone=phone, execution_id=_id_at(start)) as ex:
            for name, kind, node_id, data, ms, error in steps:
                clock[0] += dt.timedelta(milliseconds=40)
                with ex.step(name, kind, node_id=node_id, input=data) as step:
                    clock[0] += dt.timedelta(milliseconds=ms)
                    step.output = {"status": "failed"} if error else {"status": "sent"}
                    if error:
                        step.fail(error)
        return ex.execution_id

    def shipped(variables, to, error=None, send_ms=350):
        return [
            ("Load Order", "http_request", "load-order", {"order": "1042"}, 220, None),
            ("Send Template", "send_message", "send-template",
             {"template": "order_shipped", "to": to, "variables": variables}, send_ms, error),
        ]

    planted.success = run(FLOW, now - dt.timedelta(hours=3),
                          shipped({"first_name": "Ana", "order": "1042"}, GOOD_PHONE))
    planted.failure = run(FLOW, now - dt.timedelta(hours=1),
                          shipped({"order": "1042"}, BAD_PHONE, TEMPLATE_ERROR, send_ms=1400))
    planted.lonely_failure = run("Lonely flow", now - dt.timedelta(hours=2),
                                 [("Only Step", "set_variable", "only", {"x": 1}, 30, "it broke")])
    hostile = {"note": SCRIPT, "img": IMG, "q": SQL}
    planted.xss_success = run(XSS_FLOW, now - dt.timedelta(hours=4), [
        (XSS_NODE, "ai_response", "n-0", {"note": "fine", IMG: "another value"}, 90, None),
        ("Send Message", "send_message", "n-1", hostile, 90, None)])
    recorder.close()
    return planted


@pytest.fixture(scope="module")
def server(logs_template, tmp_path_factory):
    logs = copy_logs(logs_template, tmp_path_factory.mktemp("views") / "logs")
    planted = plant(logs, dt.datetime.now(dt.timezone.utc))
    server = start_server(logs.root, logs.root.parent / "server.log")
    server.planted = planted
    yield server
    server.stop()


# -- what the tests read from the page ------------------------------------------------------

BOKEH_MODEL = """(name) => {
    for (const doc of (window.Bokeh && window.Bokeh.documents) || []) {
        const model = doc.get_model_by_name(name);
        if (model) return model;
    }
    return null;
}"""


def bokeh_column(page: Page, source: str, column: str) -> list | None:
    """A column of a Bokeh data source as the browser holds it (None: no such source yet)."""
    return page.evaluate(f"""([source, column]) => {{
        const find = {BOKEH_MODEL};
        const model = find(source);
        if (!model) return null;
        const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
        return Array.from(data[column] || []);
    }}""", [source, column])


def bar_count(page: Page) -> int | None:
    column = bokeh_column(page, "timeline-steps", "y")
    return None if column is None else len(column)


def y_labels(page: Page) -> list[str]:
    """The step labels on the timeline's y axis, top to bottom."""
    return page.evaluate(f"""() => {{
        const find = {BOKEH_MODEL};
        return Array.from(find("timeline-figure").y_range.factors).reverse();
    }}""")


def wait_bars(page: Page, count: int) -> None:
    page.wait_for_function(f"""(count) => {{
        const find = {BOKEH_MODEL};
        const model = find("timeline-steps");
        if (!model) return false;
        const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
        return data.y && data.y.length === count;
    }}""", arg=count)


def plot_size(page: Page) -> tuple[float, float]:
    """The size of the timeline's canvas as drawn in the page."""
    return tuple(page.evaluate(f"""() => {{
        const find = {BOKEH_MODEL};
        const view = window.Bokeh.index.find_one(find("timeline-figure"));
        const box = view.canvas_view.el.getBoundingClientRect();
        return [box.width, box.height];
    }}"""))


def view_tab(page: Page, view: str):
    return page.locator(f".views [role=tab][data-view={view}]")


def choose(page: Page, view: str) -> None:
    view_tab(page, view).click()
    expect(view_tab(page, view)).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(rf"view={view}"))


def no_script_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("""() => {
        let found = 0;
        const walk = (root) => root.querySelectorAll("*").forEach((e) => {
            if (e.tagName === "IMG" && e.getAttribute("src") === "x") found++;
            if (e.tagName === "SCRIPT" && e.textContent.includes("__xss")) found++;
            if (e.shadowRoot) walk(e.shadowRoot);
        });
        walk(document);
        return found;
    }""") == 0
    assert page.errors == []


# -- timeline -----------------------------------------------------------------------------------


def test_the_timeline_shows_one_bar_per_step_in_order(server, page):
    logs = server.planted.logs
    p = LogsPage(page, server.url).open()
    p.open_execution("Support auto-reply", logs.ai_execution)
    choose(page, "timeline")
    wait_bars(page, 3)
    assert y_labels(page) == ["1. Receive Message", "2. AI Response", "3. Send Message"]
    assert bokeh_column(page, "timeline-steps", "status") == ["Completed"] * 3
    expect(page.locator(".timeline-caption")).to_have_attribute("data-bars", "3")
    expect(page.locator(".timeline-caption")).to_contain_text("slowest")
    width, height = plot_size(page)
    assert width > 300 and height > 3 * 20  # drawn, at the panel's width, a row per step
    expect(p.steps().first).to_be_hidden()  # the step cards give way to the timeline

    # another execution keeps the view: the failed Order reminder run, two steps, the second failed
    p.expand("Order reminder")
    p.row(logs.failed_execution).click()
    expect(page.locator(".summary .exec-id")).to_have_text(logs.failed_execution)
    wait_bars(page, 2)
    assert bokeh_column(page, "timeline-steps", "status") == ["Completed", "Failed"]
    expect(view_tab(page, "timeline")).to_have_attribute("aria-selected", "true")
    choose(page, "steps")
    expect(p.steps()).to_have_count(2)
    assert page.errors == []


def test_a_running_execution_grows_on_its_timeline(server, page):
    logs = server.planted.logs
    running = next(e for e in logs.running)  # Lead follow-up or Daily digest: steps done, still running
    LogsPage(page, f"{server.url}?execution={running}&view=timeline").open()
    expect(page.locator(".summary .exec-id")).to_have_text(running)
    page.wait_for_function(f"""() => {{
        const find = {BOKEH_MODEL};
        const m = find("timeline-running");
        if (!m) return false;
        const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        return d.right && d.right.length === 1;
    }}""")
    first = bokeh_column(page, "timeline-running", "right")[0]
    page.wait_for_function(f"""(first) => {{
        const find = {BOKEH_MODEL};
        const m = find("timeline-running");
        const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        return d.right[0] > first;
    }}""", arg=first)  # the hatched bar of the step in progress reaches further on each tick
    expect(page.locator(".timeline-caption")).to_contain_text("running")
    assert page.errors == []


# -- comparison -----------------------------------------------------------------------------------


def test_the_comparison_names_the_step_and_the_missing_variable(server, page):
    planted = server.planted
    p = LogsPage(page, server.url).open()
    p.select_tab("failed")
    p.open_execution(FLOW, planted.failure)
    choose(page, "compare")

    comparison = page.locator(".compare")
    expect(comparison.locator(".baseline-link")).to_have_text(planted.success)
    first = comparison.locator(".diff-step.failing")  # where it failed, on top; here also the first difference
    expect(first).to_have_count(1)
    expect(first).to_have_class(re.compile(r"\bfirst\b"))
    expect(first).to_have_attribute("data-node-id", "send-template")
    expect(first.locator(".node-name")).to_have_text("Send Template")
    expect(first.locator(".error")).to_have_text(TEMPLATE_ERROR)
    variable = first.locator(".input [data-path='variables.first_name']")
    expect(variable.locator(".value.before")).to_have_text('"Ana"')
    expect(variable.locator(".value.missing")).to_have_text("missing")
    phone = first.locator(".input [data-path='to']")
    expect(phone.locator(".value.before")).to_have_text(f'"{GOOD_PHONE}"')
    expect(phone.locator(".value.after")).to_have_text(f'"{BAD_PHONE}"')
    expect(first.locator(".duration-line .badge")).to_have_text("slower")  # 1.4 s against 0.35 s
    expect(comparison.locator(".diff-step[data-node-id='load-order']")).to_have_count(0)  # it ran the same
    expect(comparison.locator(".summary-line")).to_have_text("1 of 2 steps differ, 1 ran the same.")

    # the link opens the successful run; it did not fail, so its steps are shown
    comparison.locator(".baseline-link").click()
    p.wait_detail(planted.success)
    expect(view_tab(page, "compare")).to_have_count(0)
    expect(view_tab(page, "steps")).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"view=steps"))
    assert page.errors == []


def test_a_link_opens_straight_into_the_comparison(server, page):
    planted = server.planted
    LogsPage(page, f"{server.url}?tab=failed&execution={planted.failure}&view=compare").open()
    expect(view_tab(page, "compare")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".diff-step.first .input [data-path='variables.first_name']")).to_be_visible()

    # a run that did not fail has nothing to compare: the same link shape falls back to its steps
    LogsPage(page, f"{server.url}?execution={planted.success}&view=compare").open()
    p = LogsPage(page, server.url)
    p.wait_detail(planted.success)
    expect(view_tab(page, "steps")).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"view=steps"))

    LogsPage(page, f"{server.url}?execution={planted.lonely_failure}&view=compare").open()
    expect(page.locator(".compare .message")).to_contain_text("No earlier successful run of “Lonely flow”")
    assert page.errors == []


def test_new_events_keep_the_view_open(server, page):
    planted = server.planted
    p = LogsPage(page, f"{server.url}?tab=failed&execution={planted.failure}&view=compare").open()
    expect(page.locator(".diff-step.first")).to_have_attribute("data-node-id", "send-template")

    before = p.count("all")
    write_arrival(planted.logs, "Arrival while comparing")
    expect(p.tab("all").locator(".count")).to_have_text(str(before + 1))  # the auto-refresh came
    expect(view_tab(page, "compare")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".diff-step.first .input [data-path='variables.first_name']")).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=compare"))

    choose(page, "timeline")
    wait_bars(page, 2)
    write_arrival(planted.logs, "Arrival on the timeline")
    expect(p.tab("all").locator(".count")).to_have_text(str(before + 2))
    expect(view_tab(page, "timeline")).to_have_attribute("aria-selected", "true")
    assert bar_count(page) == 2
    expect(page.locator(".timeline-caption")).to_have_attribute("data-bars", "2")
    expect(page).to_have_url(re.compile(r"view=timeline"))
    assert page.errors == []


def write_arrival(logs: Logs, flow: str) -> None:
    """A completed execution written now, as another engine process would."""
    with Recorder(Writer(Store(logs.root), flush_interval=None)) as recorder:
        with recorder.execution(flow, trigger="manual") as run, run.step("Say hi", "set_variable") as step:
            step.output = {"hi": True}


# -- untrusted text -----------------------------------------------------------------------------------


def test_hostile_strings_in_the_timeline_and_the_comparison_are_text(server, page):
    logs = server.planted.logs
    LogsPage(page, f"{server.url}?execution={logs.xss_execution}&view=timeline").open()
    wait_bars(page, 2)
    assert bokeh_column(page, "timeline-steps", "name")[0] == XSS_NODE
    assert y_labels(page)[0].startswith("1. AI <img src=x")  # drawn on the canvas, shortened
    hover_bar(page, 0)
    expect(page.locator(".bk-tooltip-row-value").first).to_have_text(f"1. {XSS_NODE}")  # as text, not as HTML
    no_script_ran(page)

    choose(page, "compare")
    comparison = page.locator(".compare")
    expect(comparison.locator(".baseline-link")).to_have_text(server.planted.xss_success)
    send = comparison.locator(".diff-step[data-node-id='n-1']")
    expect(send.locator(f".input [data-path={css_string('note')}] .value.before")).to_have_text(f'"{SCRIPT}"')
    expect(send.locator(".input [data-path='img'] .value.before")).to_have_text(
        '"<img src=x onerror=\\"window.__xss=1\\">"')
    ai = comparison.locator(".diff-step[data-node-id='n-0']")
    expect(ai.locator(".node-name")).to_have_text(XSS_NODE)
    key_path = f"[{json.dumps(IMG)}]"  # a key that is not a plain name is written as a JSON string
    expect(ai.locator(f".input [data-path={css_string(key_path)}] .path")).to_have_text(key_path)
    no_script_ran(page)


def hover_bar(page: Page, row: int) -> None:
    """Move the mouse over the middle of a bar (row counted from the top), in page coordinates."""
    point = page.evaluate(f"""(row) => {{
        const find = {BOKEH_MODEL};
        const fig = find("timeline-figure");
        const source = find("timeline-steps");
        const data = source.data instanceof Map ? Object.fromEntries(source.data) : source.data;
        const view = window.Bokeh.index.find_one(fig);
        const x = view.frame.x_scale.compute((data.left[row] + data.right[row]) / 2);
        const y = view.frame.y_scale.compute(data.y[row]);
        const box = view.canvas_view.el.getBoundingClientRect();
        return [box.left + x, box.top + y];
    }}""", row)
    page.mouse.move(*point)


# -- the README's pictures -------------------------------------------------------------------------------


@pytest.mark.skipif(os.environ.get("FLOWLOGS_SCREENSHOTS") != "1", reason="screenshots only when asked for")
def test_screenshots_of_the_timeline_and_the_comparison(tmp_path, page):
    from dashboard.demo import generate_history
    from dashboard.queries import LogQueries

    root = tmp_path / "demo"
    generate_history(Store(root), days=30, per_day=60, seed=1, now=dt.datetime.now(dt.timezone.utc))
    demo = start_server(root, tmp_path / "server.log")
    try:
        queries = LogQueries(Store(root))
        failure = queries.failures().query("cause == 'template_variable'").iloc[0]
        page.set_viewport_size({"width": 1600, "height": 1300})  # the failing step's changes in view
        p = LogsPage(page, f"{demo.url}?tab=failed&execution={failure.execution_id}&view=compare").open()
        p.expand(failure.flow_name)
        expect(page.locator(".diff-step.failing .input .change").first).to_be_visible()
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / "compare.png"))

        # a failed run with a few steps: the colours and a slow step show
        picked = next(row for row in queries.failures().itertuples()
                      if 5 <= len(queries.execution(row.execution_id)["steps"]) <= 12)
        steps = len(queries.execution(picked.execution_id)["steps"])
        page.set_viewport_size({"width": 1600, "height": 1000})
        p = LogsPage(page, f"{demo.url}?tab=failed&execution={picked.execution_id}&view=timeline").open()
        p.expand(picked.flow_name)
        wait_bars(page, steps)
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / "timeline.png"))
    finally:
        demo.stop()
