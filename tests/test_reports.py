"""Token reports: `flowlogs tokens` in every format, the notebook's report functions and the
store's own query agree to the token; cost never prices an unknown model at zero; the HTML
report opens offline in Chromium without errors and shows log text as text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import subprocess
from pathlib import Path

import pytest
from cli_inproc import run_cli
from PIL import Image

from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.reports import DEFAULT_PRICES, GROUP_KEYS, UNKNOWN_PRICE, TokenReport, price_table
from dashboard.store import Store
from dashboard.writer import Writer

TOKEN_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens", "ai_steps"]
EVIL_FLOW = '<img src=x onerror="window.__xss = 1">Promo'
EVIL_NODE = "<script>window.__xss = 2</script>Writer"


def flowlogs(*args, data: Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [*args, "--data", str(data)]
    result = run_cli(cmd, cwd=cwd)  # in this process: the real app without ~1 s of interpreter start
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}:\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("reports") / "logs"
    generate_history(Store(data), days=10, per_day=40, seed=3)
    return data


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> Path:
    """Two flows, one model with a price and one without, and names that look like HTML."""
    data = tmp_path_factory.mktemp("crafted") / "logs"
    now = [dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)]
    with Recorder(Writer(Store(data), flush_interval=None), clock=lambda: now[0]) as recorder:
        with recorder.execution(EVIL_FLOW, trigger="manual") as run:
            with run.step(EVIL_NODE, "ai_response") as step:
                step.ai(model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=500)
            with run.step("Local summary", "ai_response") as step:
                step.ai(model="local-llama-3", prompt_tokens=300, completion_tokens=200)
        now[0] += dt.timedelta(days=1)
        with recorder.execution("Nightly digest", trigger="schedule") as run:
            with run.step("Summarise", "ai_response") as step:
                step.ai(model="local-llama-3", prompt_tokens=10, completion_tokens=5)
            with run.step("Send Message", "send_message"):
                run.message_sent()
    return data




def open_offline(browser, path: Path):
    """Open a file:// page with every other request refused; returns the page and its problems."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            problems.append(f"network request: {url}")
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri())
    page.get_by_text("Total tokens:").wait_for(timeout=15_000)
    page.locator(".bk-Canvas, canvas").first.wait_for(timeout=15_000)
    page.wait_for_timeout(500)  # let the plots draw
    return page, problems


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------------------
# Agreement


@pytest.mark.parametrize("by", list(GROUP_KEYS))
def test_csv_json_report_and_store_agree_to_the_token(demo, by):
    keys = GROUP_KEYS[by]
    as_csv = parse_csv(flowlogs("tokens", "--by", by, "--format", "csv", data=demo).stdout)
    as_json = json.loads(flowlogs("tokens", "--by", by, "--json", data=demo).stdout)
    report = TokenReport.load(demo)
    records = report.records(by)
    store = LogQueries(Store(demo)).token_usage(by)

    assert len(as_csv) == len(as_json) == len(records) == len(store) > 0
    assert as_json == records  # the command and the notebook's functions: one code path
    for row_csv, row_json in zip(as_csv, as_json, strict=True):
        assert {k: str(row_json[k]) for k in keys} == {k: row_csv[k] for k in keys}
        assert {f: int(row_csv[f]) for f in TOKEN_FIELDS} == {f: row_json[f] for f in TOKEN_FIELDS}
        assert row_csv["cost"] == row_json["cost"]
        assert (row_csv["cost_usd"] or None) == (None if row_json["cost_usd"] is None else repr(row_json["cost_usd"]))
    store_rows = [{**{k: str(v.date()) if hasattr(v, "date") else v for k, v in zip(keys, row[:len(keys)],
                                                                                 strict=True)},
                   **dict(zip(TOKEN_FIELDS, map(int, row[len(keys):]), strict=True))}
                  for row in store[keys + TOKEN_FIELDS].itertuples(index=False)]
    ours = [{k: r[k] for k in keys + TOKEN_FIELDS} for r in as_json]
    assert sorted(ours, key=str) == sorted(store_rows, key=str)  # the same rows, in the same order (ties aside)
    assert [r["total_tokens"] for r in ours] == [r["total_tokens"] for r in store_rows]
    assert by != "day" or ours == store_rows

    totals = report.totals()
    assert totals["total_tokens"] == int(store["total_tokens"].sum()) == sum(r["total_tokens"] for r in as_json)
    assert totals["unpriced_tokens"] == 0, "every demo model has a price"
    # group costs are rounded to micro-dollars
    assert math.isclose(sum(r["cost_usd"] for r in as_json), totals["cost_usd"], abs_tol=1e-6 * len(as_json))


@pytest.mark.browser
def test_html_report_opens_offline_without_errors_and_shows_the_same_numbers(demo, browser, tmp_path):
    path = tmp_path / "tokens.html"
    result = flowlogs("tokens", "--by", "flow", "--format", "html", "--output", str(path), data=demo)
    report = TokenReport.load(demo)
    totals = report.totals()
    assert f"{totals['total_tokens']:,} tokens" in result.stderr
    text = path.read_text()
    assert "cdn.bokeh.org" not in text and "cdn.holoviz.org" not in text.split("<script", 1)[0]

    page, problems = open_offline(browser, path)
    try:
        summary = page.get_by_text("Total tokens:").first.locator("xpath=..").inner_text()
        assert f"{totals['total_tokens']:,}" in summary
        assert page.locator(".bk-Canvas, canvas").count() >= 6  # the notebook's charts
        rows = page.locator("table tbody tr")
        expected = report.records("flow")
        assert rows.count() == len(expected)
        for i, row in enumerate(expected):
            cells = rows.nth(i).locator("td").all_inner_texts()
            assert cells[0] == row["flow_name"] and int(cells[3]) == row["total_tokens"], cells
        png = tmp_path / "tokens.png"
        page.screenshot(path=str(png), full_page=True)
    finally:
        page.close()
    assert problems == []
    image = Image.open(png).convert("RGB")
    assert image.height > 1500 and png.stat().st_size > 50_000
    small = image.resize((120, 240))
    assert len(set(small.getdata())) > 50, "the screenshot shows charts, not a blank page"


# ---------------------------------------------------------------------------
# Cost


def test_unknown_models_are_never_priced_at_zero(crafted):
    report = TokenReport.load(crafted)
    models = {r["model"]: r for r in report.records("model")}
    assert models["local-llama-3"]["cost_usd"] is None
    assert models["local-llama-3"]["cost"] == UNKNOWN_PRICE
    assert models["local-llama-3"]["unpriced_tokens"] == 515
    assert models["local-llama-3"]["prompt_usd_per_1m"] is None
    assert models["gpt-4o-mini"]["cost_usd"] == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    assert models["gpt-4o-mini"]["unpriced_tokens"] == 0

    flows = {r["flow_name"]: r for r in report.records("flow")}
    assert flows["Nightly digest"]["cost_usd"] is None and flows["Nightly digest"]["cost"] == UNKNOWN_PRICE
    mixed = flows[EVIL_FLOW]
    assert mixed["cost_usd"] == pytest.approx(0.00045) and mixed["unpriced_tokens"] == 500
    assert mixed["cost"].startswith("$") and f"{UNKNOWN_PRICE} for 500 tokens" in mixed["cost"]

    totals = report.totals()
    assert totals["unpriced_models"] == ["local-llama-3"] and totals["unpriced_tokens"] == 515
    assert totals["cost_usd"] == pytest.approx(0.00045)

    as_csv = {r["model"]: r for r in parse_csv(report.to_csv("model"))}
    assert as_csv["local-llama-3"]["cost_usd"] == "" and as_csv["local-llama-3"]["cost"] == UNKNOWN_PRICE


def test_a_price_table_is_a_plain_dict_that_can_replace_the_defaults(crafted):
    prices = {**DEFAULT_PRICES, "local-llama-3": {"prompt": 1.0, "completion": 2.0}}
    report = TokenReport.load(crafted, prices=prices)
    totals = report.totals()
    assert totals["unpriced_tokens"] == 0 and totals["unpriced_models"] == []
    assert totals["cost_usd"] == pytest.approx(0.00045 + (310 * 1.0 + 205 * 2.0) / 1e6)
    assert price_table({"m": (1, 2)})["m"] == price_table({"m": {"prompt": 1, "completion": 2}})["m"]
    for bad in ({"prompt": 1}, {"prompt": -1, "completion": 2}, {"prompt": "1", "completion": 2},
                {"prompt": 1, "completion": 2, "cached": 0}, 3):
        with pytest.raises(ValueError, match="'gpt-x'"):
            price_table({"gpt-x": bad})
    assert price_table(None) == DEFAULT_PRICES and price_table(None) is not DEFAULT_PRICES


def test_ranges_and_an_empty_store(crafted, tmp_path):
    first = TokenReport.load(crafted, since="2026-11-20", until="2026-11-20")
    assert [r["day"] for r in first.records("day")] == ["2026-11-20"]
    assert first.totals()["total_tokens"] == 2000
    second = TokenReport.load(crafted, since=dt.date(2026, 11, 21))
    assert second.totals()["total_tokens"] == 15

    # the dashboard's ranges end at an exclusive midnight: that day is not part of the report
    utc = dt.timezone.utc
    page_range = TokenReport.load(crafted, since=dt.datetime(2026, 11, 20, tzinfo=utc),
                                  until=dt.datetime(2026, 11, 21, tzinfo=utc))
    assert page_range.day_range() == (dt.date(2026, 11, 20), dt.date(2026, 11, 20))
    assert page_range.daily_by_model()["day"].nunique() == 1 and page_range.totals()["total_tokens"] == 2000

    empty = TokenReport.load(tmp_path / "nothing-here")
    assert empty.by("flow").empty and empty.totals()["total_tokens"] == 0
    assert empty.totals()["cost_usd"] is None and empty.charts() == {}
    assert empty.save_html(tmp_path / "empty.html").stat().st_size > 100_000


# ---------------------------------------------------------------------------
# The command


@pytest.mark.browser
def test_html_shows_log_text_as_text(crafted, browser, tmp_path):
    path = tmp_path / "crafted.html"
    flowlogs("tokens", "--by", "node", "--format", "html", "-o", str(path), data=crafted)
    page, problems = open_offline(browser, path)
    try:
        assert page.evaluate("window.__xss") is None
        assert page.get_by_text(EVIL_FLOW, exact=True).count() >= 1
        assert page.get_by_text(re.compile(re.escape(UNKNOWN_PRICE))).count() >= 1
    finally:
        page.close()
    assert problems == []


def test_html_goes_to_tokens_report_html_by_default_and_other_outputs_to_files(crafted, tmp_path):
    result = flowlogs("tokens", "--format", "html", data=crafted, cwd=tmp_path)
    assert (tmp_path / "tokens-report.html").stat().st_size > 1_000_000
    assert "tokens-report.html" in result.stderr and result.stdout == ""

    report = TokenReport.load(crafted)
    for fmt, expected in (("csv", report.to_csv("model")), ("json", report.to_json("model")), ("table", None)):
        out = tmp_path / f"tokens.{fmt}"
        flowlogs("tokens", "--by", "model", "--format", fmt, "--output", str(out), data=crafted)
        if expected is None:
            assert "local-llama-3" in out.read_text() and UNKNOWN_PRICE in out.read_text()
        else:
            assert out.read_text() == expected


def test_bad_options_are_refused(crafted):
    for args, option in ((["--format", "pdf"], "--format"), (["--by", "colour"], "--by"),
                         (["--format", "csv", "--json"], "--json")):
        result = flowlogs("tokens", *args, data=crafted, check=False)
        assert result.returncode != 0 and option in result.stderr, args


def test_each_chart_is_drawn_from_its_own_frame(crafted):
    """The dashboard redraws single charts from new frames: every frame of chart_data() draws."""
    from dashboard.reports import chart

    report = TokenReport.load(crafted)
    data = report.chart_data(top=10)
    assert set(data) == {"tokens_by_day", "trend", "cost_by_day", "top_flows", "top_nodes", "model_tokens",
                         "model_cost"}
    assert data["top_flows"]["flow_name"].iloc[-1] == EVIL_FLOW  # largest last: barh draws it on top
    for name, frame in data.items():
        assert chart(name, frame, "EUR") is not None
    assert TokenReport.load(crafted, since="2030-01-01").chart_data() == {}


# ---------------------------------------------------------------------------
# Log text stays text in every export (issue 15, item 5)

MARKDOWN_MODEL = "evil` ![pixel](https://tracker.example/p.png) [open the invoice](https://phish.example/login) `"
FORMULAS = {"flow": '=HYPERLINK("https://phish.example","Invoice")', "node": "+cmd|' /C calc'!A0",
            "model": "@SUM(1+1)*cmd|' /C calc'!A0"}


@pytest.fixture(scope="module")
def injected(tmp_path_factory) -> Path:
    """Names a flow engine passed on from its users: Markdown that breaks out of a code span, spreadsheet formulas."""
    data = tmp_path_factory.mktemp("injected") / "logs"
    at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    with Recorder(Writer(Store(data), flush_interval=None), clock=lambda: at) as recorder:
        with recorder.execution("Support", trigger="manual") as run:
            with run.step("Reply", "ai_response") as step:
                step.ai(model=MARKDOWN_MODEL, prompt_tokens=100, completion_tokens=50)
        with recorder.execution(FORMULAS["flow"], trigger="manual") as run:
            with run.step(FORMULAS["node"], "ai_response") as step:
                step.ai(model=FORMULAS["model"], prompt_tokens=10, completion_tokens=5)
            with run.step("-2+3", "ai_response") as step:
                step.ai(model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1)
    return data


@pytest.mark.browser
def test_html_report_shows_markdown_in_a_model_name_as_text_and_loads_nothing(injected, browser, tmp_path):
    path = tmp_path / "report.html"
    flowlogs("tokens", "--by", "model", "--format", "html", "-o", str(path), data=injected)
    page, problems = open_offline(browser, path)
    try:
        links = page.locator("a[href*='phish.example'], img[src*='tracker.example']")
        assert links.count() == 0
        assert page.get_by_text(MARKDOWN_MODEL).count() >= 1  # the name, as written
    finally:
        page.close()
    assert problems == []  # no request to tracker.example: the report stays offline


@pytest.mark.parametrize("output", ["command", "export_csv"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(injected, tmp_path, output):
    for by, key, column in (("flow", "flow", "flow_name"), ("node", "node", "node_name"), ("model", "model", "model")):
        if output == "command":
            text = flowlogs("tokens", "--by", by, "--format", "csv", data=injected).stdout
        else:
            text = TokenReport.load(injected).export_csv(tmp_path / "out")[by].read_text()
        cells = [row[column] for row in parse_csv(text)]
        assert "'" + FORMULAS[key] in cells, cells  # shown as text, the way spreadsheets read a leading '
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
        if by == "node":
            assert "'-2+3" in cells
    # numbers stay numbers; JSON keeps the names exactly
    rows = json.loads(flowlogs("tokens", "--by", "flow", "--format", "json", data=injected).stdout)
    assert FORMULAS["flow"] in {r["flow_name"] for r in rows}
    assert all(int(r["total_tokens"]) > 0 for r in parse_csv(flowlogs("tokens", "--by", "flow", "--format", "csv",
                                                                     data=injected).stdout))
