"""The Token usage page on demo history, served as `flowlogs serve` serves it: its totals equal
`flowlogs tokens` on the same range, an unknown model is unpriced (never free), log text that
looks like HTML stays text, views live in the URL, and auto-refresh and price-file edits apply
in place. FLOWLOGS_SCREENSHOTS=1 also writes docs/token-usage.png."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import start_server
from planted import ROOT
from playwright.sync_api import Page, expect

from dashboard.demo import generate_history
from dashboard.recorder import Recorder
from dashboard.reports import UNKNOWN_PRICE
from dashboard.store import Store
from dashboard.writer import Writer

DOCS = ROOT / "docs"
pytestmark = pytest.mark.browser

EVIL_FLOW = '<img src=x onerror="window.__xss = 1">Promo blast'
EVIL_NODE = "<script>window.__xss = 2</script>Writer"
EVIL_MODEL = "<b onmouseover=window.__xss=3>llama</b>"
LOCAL_MODEL = "llama-3.1-8b-local"  # a realistic model without a price, in the recent days
NOW = dt.datetime.now(dt.timezone.utc)
DAYS = 14


def plant(root: Path, at: dt.datetime, flow: str, node: str, model: str, prompt: int, completion: int) -> None:
    """One execution with one AI step, recorded as a flow engine would record it."""
    with Recorder(Writer(Store(root), flush_interval=None), clock=lambda: at) as recorder:
        with recorder.execution(flow, trigger="manual") as run:
            with run.step(node, "ai_response") as step:
                step.ai(model=model, prompt_tokens=prompt, completion_tokens=completion)


@pytest.fixture(scope="module")
def demo_logs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tokens") / "logs"
    generate_history(Store(root), days=DAYS, per_day=40, seed=11, now=NOW)
    for days_ago in (1, 2, 4):
        plant(root, NOW - dt.timedelta(days=days_ago, hours=1), "Support Auto-Reply", "Local Draft", LOCAL_MODEL,
              1800, 400)
    # the hostile names on the oldest day, out of the screenshot's last 7 days; the largest flow of all
    plant(root, NOW - dt.timedelta(days=DAYS - 1), EVIL_FLOW, EVIL_NODE, EVIL_MODEL, 400_000, 100_000)
    return root


@pytest.fixture(scope="module")
def demo_server(demo_logs):
    server = start_server(demo_logs, demo_logs.parent / "server.log")
    yield server
    server.stop()


def flowlogs_tokens(data: Path, *args: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "dashboard.cli", "tokens", "--data", str(data), "--json", *args],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def open_tokens(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(".token-usage")).to_be_visible()
    expect(total_locator(page, "total_tokens")).to_have_text(re.compile(r"^[\d,]+$"))


def total_locator(page: Page, key: str):
    return page.locator(f".token-totals [data-total={key}] .value")


def total(page: Page, key: str) -> int:
    return int(total_locator(page, key).inner_text().replace(",", ""))


def table_rows(page: Page):
    return page.locator(".token-table .tabulator-row")


def cell(row, field: str) -> str:
    return row.locator(f".tabulator-cell[tabulator-field={field}]").inner_text()


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("days", [None, (9, 3)])
def test_totals_equal_flowlogs_tokens_on_the_same_range(demo_server, page, days):
    if days is None:
        query, args = "range=all", []
    else:
        since, until = ((NOW - dt.timedelta(days=d)).date().isoformat() for d in days)
        query, args = f"range=custom&since={since}&until={until}", ["--since", since, "--until", until]
    open_tokens(page, f"{demo_server.url}?page=tokens&{query}&by=model")
    rows = flowlogs_tokens(demo_server.data, "--by", "model", *args)
    expected = {f: sum(r[f] for r in rows) for f in ("total_tokens", "prompt_tokens", "completion_tokens",
                                                       "ai_steps")}
    assert expected["total_tokens"] > 0
    expect(total_locator(page, "total_tokens")).to_have_text(f"{expected['total_tokens']:,}")
    for key, value in expected.items():
        assert total(page, key) == value, key

    # the table of the same grouping: the same rows, tokens and cost as the command's JSON
    expect(table_rows(page)).to_have_count(len(rows))
    shown = {cell(r, "model"): r for r in table_rows(page).all()}
    assert set(shown) == {r["model"] for r in rows}
    for row in rows:
        line = shown[row["model"]]
        assert int(cell(line, "total_tokens").replace(",", "")) == row["total_tokens"]
        # money as the command writes it ($0.49, $0.0042), unknown price as "unknown price", never as $0.00
        assert cell(line, "cost_usd") == row["cost"]
        assert re.fullmatch(r"\$[\d,]+\.\d{2}(\d\d)?", row["cost"]) if row["cost_usd"] is not None else \
            row["cost"] == UNKNOWN_PRICE
        if row["prompt_usd_per_1m"] is not None:
            assert cell(line, "prompt_usd_per_1m") == f"${row['prompt_usd_per_1m']:,.2f}"
    assert page.errors == []


def test_a_preset_range_equals_the_command_from_the_same_minute(demo_server, page):
    open_tokens(page, f"{demo_server.url}?page=tokens&range=7d")
    shown = total(page, "total_tokens")
    minute = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    candidates = set()
    for start in (minute - dt.timedelta(days=7), minute - dt.timedelta(days=7, minutes=1)):  # a minute may turn
        rows = flowlogs_tokens(demo_server.data, "--since", start.isoformat().replace("+00:00", "Z"))
        candidates.add(sum(r["total_tokens"] for r in rows))
    assert shown in candidates


def test_unknown_models_are_unpriced_and_hostile_names_are_text(demo_server, page):
    open_tokens(page, f"{demo_server.url}?page=tokens&range=all&by=model")
    rows = {r["model"]: r for r in flowlogs_tokens(demo_server.data, "--by", "model")}
    unpriced = rows[LOCAL_MODEL]["total_tokens"] + rows[EVIL_MODEL]["total_tokens"]
    note = page.locator(".token-totals [data-total=cost] .note")
    expect(note).to_contain_text(f"+ {unpriced:,} tokens of unpriced models")
    expect(note).to_contain_text(EVIL_MODEL)  # the name itself, as text
    expect(page.locator(".token-table").get_by_text(EVIL_MODEL, exact=True)).to_be_visible()
    line = table_rows(page).filter(has=page.get_by_text(LOCAL_MODEL, exact=True))
    assert cell(line, "cost_usd") == UNKNOWN_PRICE
    assert cell(line, "unpriced_tokens") == f"{rows[LOCAL_MODEL]['total_tokens']:,}"

    page.locator(".token-group button", has_text="Node").click()
    expect(page).to_have_url(re.compile(r"by=node"))
    expect(page.locator(".token-table").get_by_text(EVIL_NODE, exact=True)).to_be_visible()
    expect(page.locator(".token-table").get_by_text(EVIL_FLOW, exact=True).first).to_be_visible()

    # the chart tooltips: the largest flow is the top bar of "Top flows"; hover it and read the tooltip
    chart = page.locator(".chart-top-flows .bk-Canvas, .chart-top-flows canvas").first
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    tooltip = page.locator(".bk-Tooltip")
    for step in range(12):  # across the upper part of the plot until the top bar is under the mouse
        page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + 30 + step * 6, steps=3)
        if tooltip.count():
            break
    expect(tooltip.first).to_contain_text(f"flow_name: {EVIL_FLOW}")
    assert page.evaluate("window.__xss") is None
    assert page.errors == []


def chart_ranges(page: Page) -> list[tuple[float, float]]:
    """(start, end) of every numeric range of the page's Bokeh plots: a zoom changes some of them."""
    return page.evaluate("""() => {
        const ranges = [];
        for (const doc of window.Bokeh.documents)
            for (const model of doc.all_models)
                if (typeof model.start === "number" && typeof model.end === "number" && "range_padding" in model)
                    ranges.push([model.start, model.end]);
        return ranges.sort();
    }""")


def test_the_mouse_wheel_over_a_chart_scrolls_the_page_and_leaves_the_chart_alone(demo_server, page):
    open_tokens(page, f"{demo_server.url}?page=tokens&range=all&by=flow")
    chart = page.locator(".chart-tokens-by-day .bk-Canvas, .chart-tokens-by-day canvas").first
    expect(chart).to_be_visible()
    expect(table_rows(page).first).to_be_attached()
    page.wait_for_timeout(500)  # the plots have drawn their ranges
    before, ranges = chart.bounding_box(), chart_ranges(page)
    assert ranges, "the page's charts have ranges"
    page.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
    for _ in range(3):
        page.mouse.wheel(0, 200)
    for _ in range(50):  # scrolling is smooth: wait until the page has moved
        page.wait_for_timeout(100)
        if chart.bounding_box()["y"] <= before["y"] - 300:
            break
    assert chart.bounding_box()["y"] <= before["y"] - 300, "the page did not scroll under the wheel"
    assert chart_ranges(page) == ranges, "the wheel zoomed a chart"
    assert page.errors == []


def test_navigation_and_every_view_in_the_url(demo_server, page):
    page.goto(f"{demo_server.url}?range=30d")
    expect(page.locator(".execution-logs")).to_be_visible()
    page.locator("[data-page=tokens]").click()
    expect(page).to_have_url(re.compile(r"page=tokens"))
    expect(page).to_have_url(re.compile(r"range=30d"))
    expect(page.locator(".token-usage")).to_be_visible()
    expect(page.locator(".execution-logs")).to_be_hidden()
    expect(page.locator("[data-page=tokens]")).to_have_attribute("aria-current", "page")
    expect(total_locator(page, "total_tokens")).to_have_text(re.compile(r"^[\d,]+$"))

    page.locator(".token-group button", has_text="Flow").click()
    expect(page).to_have_url(re.compile(r"by=flow"))
    expect(page.locator(".token-table .tabulator-col[tabulator-field=flow_name]")).to_be_visible()

    page.reload()  # a shared link reopens the same view
    expect(page.locator(".token-usage")).to_be_visible()
    expect(page.locator(".token-table .tabulator-col[tabulator-field=flow_name]")).to_be_visible()
    expect(page.locator(".token-group button", has_text="Flow")).to_have_class(re.compile("active"))

    page.locator("[data-page=logs]").click()
    expect(page.locator(".execution-logs")).to_be_visible()
    expect(page.locator(".token-usage")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"page=logs"))
    assert page.errors == []


def test_auto_refresh_and_price_edits_apply_in_place_keeping_the_sort(demo_logs, page, tmp_path):
    root = tmp_path / "logs"
    shutil.copytree(demo_logs, root, ignore=shutil.ignore_patterns("_locks"))
    server = start_server(root, tmp_path / "server.log")
    try:
        open_tokens(page, f"{server.url}?page=tokens&range=all&by=flow")
        before = total(page, "total_tokens")
        header = page.locator(".token-table .tabulator-col[tabulator-field=ai_steps]")
        header.click()
        expect(header).to_have_attribute("aria-sort", re.compile("ascending|descending"))
        sort = header.get_attribute("aria-sort")

        plant(root, dt.datetime.now(dt.timezone.utc), "Support Auto-Reply", "AI Response", "gpt-4o-mini", 1000, 234)
        expect(total_locator(page, "total_tokens")).to_have_text(f"{before + 1234:,}")  # no reload, no click
        assert header.get_attribute("aria-sort") == sort
        steps = [int(cell(r, "ai_steps").replace(",", "")) for r in table_rows(page).all()]
        assert steps == sorted(steps, reverse=sort == "descending")

        # a broken price file: said on the page, tokens still shown, no cost columns
        prices = root / "prices.toml"
        good = prices.read_text()
        prices.write_text(re.sub(r"^gpt-4o-mini .*$", 'gpt-4o-mini = { prompt = "x", completion = 0.6 }', good,
                                 flags=re.M))
        alert = page.locator(".token-prices [role=alert]")
        expect(alert).to_contain_text("prices.toml")
        expect(alert).to_contain_text("models.gpt-4o-mini")
        expect(alert).to_contain_text(re.compile(r"line \d+"))
        expect(total_locator(page, "cost")).to_have_text("—")
        expect(page.locator(".token-table .tabulator-col[tabulator-field=cost_usd]")).to_have_count(0)
        assert total(page, "total_tokens") == before + 1234

        # fixed with other prices: the page applies them without a restart, as the command does
        prices.write_text('currency = "EUR"\n[models]\n"gpt-4o-mini" = { prompt = 10, completion = 10 }\n')
        expect(alert).to_have_count(0)
        cost = sum(r["cost_usd"] or 0 for r in flowlogs_tokens(root, "--by", "model"))
        expect(total_locator(page, "cost")).to_have_text(f"€{cost:,.2f}")
        assert page.errors == []
    finally:
        server.stop()


@pytest.mark.skipif(os.environ.get("FLOWLOGS_SCREENSHOTS") != "1", reason="FLOWLOGS_SCREENSHOTS=1 writes docs/")
def test_screenshot_for_the_readme(demo_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        open_tokens(page, f"{demo_server.url}?page=tokens&range=7d&by=model")
        expect(page.locator(".chart-tokens-by-day .bk-Canvas, .chart-tokens-by-day canvas").first).to_be_visible()
        expect(table_rows(page).first).to_be_visible()
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / "token-usage.png"))
    finally:
        page.close()
