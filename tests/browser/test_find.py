"""Find: the search box, the time range and the failure-causes panel, on demo history in Chromium.

What the page shows is checked against the raw Parquet rows read with pandas (for the search)
and against the store's own queries (for causes and ranges).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pandas as pd
import pytest
from conftest import screenshot_path
from logs_page import LogsPage
from playwright.sync_api import expect

from dashboard.recorder import Recorder

pytestmark = pytest.mark.browser


def raw_rows(root, dataset: str, columns: list[str]) -> pd.DataFrame:
    """Every row of a dataset as written (the store's append-only rows, before any merge)."""
    frames = [pd.read_parquet(path, columns=columns) for path in sorted((root / dataset).rglob("*.parquet"))]
    return pd.concat(frames, ignore_index=True)


def spaced(phone: str) -> str:
    """+4915112345678 as an operator would type it: +49 151 1234 5678."""
    return f"{phone[:3]} {phone[3:6]} {phone[6:10]} {phone[10:]}"


def url_query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def test_a_phone_number_finds_exactly_that_numbers_executions(demo_server, page):
    server, queries = demo_server
    started = raw_rows(server.data, "executions", ["execution_id", "flow_name", "trigger_phone"])
    started = started.dropna(subset=["trigger_phone"]).drop_duplicates("execution_id")
    per_phone = started.groupby("trigger_phone").execution_id.apply(set)
    phone = per_phone.map(len).idxmax()  # the customer who wrote most often
    expected = per_phone[phone]

    p = LogsPage(page, server.url).open()
    p.search(spaced(phone))
    expect(p.tab("all").locator(".count")).to_have_text(str(len(expected)))
    flows = sorted(set(started[started.execution_id.isin(expected)].flow_name))
    expect(p.groups()).to_have_count(len(flows))
    assert sorted(p.group_names()) == flows
    shown = set().union(*(p.expanded_ids(flow) for flow in flows))
    assert shown == expected
    expect(page).to_have_url(re.compile(r"search=" + re.escape(urllib.parse.quote_plus(spaced(phone)))))
    assert not page.errors


def test_words_of_ai_replies_are_found_and_counts_follow_the_search(demo_server, page):
    server, queries = demo_server
    steps = raw_rows(server.data, "steps", ["execution_id", "ai_reply", "error"])
    executions = raw_rows(server.data, "executions", ["execution_id", "flow_name", "error"])
    word = "retourenlabel"
    hits = set(steps[steps.ai_reply.str.contains(word, case=False, na=False)
                     | steps.error.str.contains(word, case=False, na=False)].execution_id)
    hits |= set(executions[executions.flow_name.str.contains(word, case=False, na=False)
                           | executions.error.str.contains(word, case=False, na=False)].execution_id)
    assert hits, "the demo's German AI replies mention the return label"

    p = LogsPage(page, server.url).open()
    p.search(word.upper())
    expect(p.tab("all").locator(".count")).to_have_text(f"{len(hits):,}")
    counts = queries.tab_counts(search=word)
    assert counts["all"] == len(hits)
    expect(p.tab("failed").locator(".count")).to_have_text(f"{counts['failed']:,}")
    p.search("no such words anywhere")
    expect(p.tab("all").locator(".count")).to_have_text("0")
    expect(page.locator(".groups .empty")).to_contain_text("No executions match")
    page.locator(".search-clear").click()
    expect(p.tab("all").locator(".count")).to_have_text(f"{queries.tab_counts()['all']:,}")
    assert "search" not in url_query(page) or not url_query(page)["search"]


def test_failure_cause_counts_equal_the_store_and_a_click_narrows_to_them(demo_server, page, tmp_path):
    server, queries = demo_server
    listed = queries.failures().cause.value_counts().to_dict()
    p = LogsPage(page, server.url).open()
    for cause in ("whatsapp_connection", "invalid_phone", "ai_provider", "template_variable", "other"):
        expect(p.cause_card(cause).locator(".count")).to_have_text(f"{listed.get(cause, 0):,}")
        expect(p.cause_card(cause).locator("svg.spark polyline")).to_have_count(1)

    p.cause_card("invalid_phone").click()
    expect(p.tab("failed")).to_have_attribute("aria-selected", "true")
    expect(p.cause_card("invalid_phone")).to_have_attribute("aria-pressed", "true")
    expect(p.tab("failed").locator(".count")).to_have_text(f"{listed['invalid_phone']:,}")
    failures = queries.failures().query("cause == 'invalid_phone'")
    expect(p.groups()).to_have_count(failures.flow_name.nunique())
    assert set(p.group_names()) == set(failures.flow_name)
    expect(page).to_have_url(re.compile(r"cause=invalid_phone"))
    p.expand(failures.flow_name.iloc[0])
    page.mouse.move(0, 0)
    page.screenshot(path=str(screenshot_path("find.png", tmp_path)))

    # the link reopens the same view
    p.open(page.url)
    expect(p.cause_card("invalid_phone")).to_have_attribute("aria-pressed", "true")
    expect(p.tab("failed").locator(".count")).to_have_text(f"{listed['invalid_phone']:,}")
    page.locator(".failure-causes .reset").click()
    expect(p.cause_card("invalid_phone")).to_have_attribute("aria-pressed", "false")
    expect(p.tab("failed").locator(".count")).to_have_text(f"{queries.tab_counts()['failed']:,}")


def test_a_range_narrows_counts_causes_and_groups_and_is_in_the_url(demo_server, page):
    server, queries = demo_server
    day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).date().isoformat()
    p = LogsPage(page, server.url).open(f"{server.url}?range=custom&since={day}&until={day}")
    expect(page.locator(".find-bar .range-since input")).to_have_value(day)
    counts = queries.tab_counts(since=dt.date.fromisoformat(day), until=dt.date.fromisoformat(day))
    expect(p.tab("all").locator(".count")).to_have_text(f"{counts['all']:,}")
    causes = queries.failures(since=dt.date.fromisoformat(day), until=dt.date.fromisoformat(day))
    causes = causes.cause.value_counts().to_dict()
    expect(p.cause_card("invalid_phone").locator(".count")).to_have_text(f"{causes.get('invalid_phone', 0):,}")

    # a bound that is not a date says so and leaves that side open
    page.locator(".find-bar .range-until input").fill("next tuesday")
    page.locator(".find-bar .range-until input").press("Enter")
    expect(page.locator(".find-bar .range-problem")).to_contain_text("Until: not a date or time")

    p.choose_range("Last 7 days")
    expect(page).to_have_url(re.compile(r"range=7d"))
    expect(page.locator(".find-bar .range-since input")).to_be_hidden()
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    # the page rounds the start to the minute: the figure is one of the two minutes around the click
    week = {queries.tab_counts(since=now - dt.timedelta(days=7, minutes=m))["all"] for m in (-1, 0, 1)}
    expect(p.tab("all").locator(".count")).to_have_text(re.compile("^(" + "|".join(f"{n:,}" for n in week) + ")$"))
    assert max(week) < queries.tab_counts()["all"]


def test_search_and_cause_survive_auto_refresh_and_new_events_are_counted(own_server, page):
    logs = own_server.logs
    p = LogsPage(page, own_server.url).open(f"{own_server.url}?search=reminder&range=24h")
    expect(p.tab("all").locator(".count")).to_have_text(str(logs.runs["Order reminder"]))
    assert p.group_names() == ["Order reminder"]

    with Recorder.open(logs.root) as recorder:
        with recorder.execution("Order reminder") as run, run.step("Send Message", "send_message"):
            run.message_sent()
        with recorder.execution("Unrelated flow") as run, run.step("Wait", "delay"):
            pass
    expect(p.tab("all").locator(".count")).to_have_text(str(logs.runs["Order reminder"] + 1))
    assert p.search_text() == "reminder"
    assert p.group_names() == ["Order reminder"]
    assert url_query(page)["search"] == "reminder" and url_query(page)["range"] == "24h"
    preset = page.locator(".find-bar .range-presets button", has_text="Last 24 hours")
    expect(preset).to_have_class(re.compile("bk-active"))
    assert not page.errors


def test_a_hand_written_link_with_a_bare_number_and_flow_opens_that_view(shared_server, page):
    """Panel reads `search=4915…` as a number and `flows=Name` as text: both must still apply."""
    logs = shared_server.logs
    p = LogsPage(page, shared_server.url).open(
        f"{shared_server.url}?search=4915112345678&flows=Support%20auto-reply&tab=completed")
    assert p.search_text() == "4915112345678"
    expect(p.tab("completed")).to_have_attribute("aria-selected", "true")
    expect(p.tab("all").locator(".count")).to_have_text(str(logs.runs["Support auto-reply"]))
    expect(p.group("Support auto-reply")).to_have_attribute("aria-expanded", "true")
    expect(p.rows("Support auto-reply")).to_have_count(logs.runs["Support auto-reply"])
