"""Changing the logs from the page (delete, Clear all) and from elsewhere (a new event).

Each test gets its own server (started with dashboard.server.serve, as `flowlogs serve`
does) over a private copy of the planted logs, and checks the files on disk too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest
from logs_page import LogsPage
from planted import ROOT, parquet_ids
from playwright.sync_api import expect

from dashboard.events import StepFinished
from dashboard.schema import StepStatus
from dashboard.store import Store
from dashboard.writer import Writer

pytestmark = pytest.mark.browser


def test_delete_removes_exactly_that_execution_from_disk_and_refuses_a_running_one(own_server, page):
    logs = own_server.logs
    p = LogsPage(page, own_server.url).open()
    before = p.count("all")

    # a running execution is refused, with a message saying why
    p.expand("Lead follow-up")
    running = p.row(logs.running[0]) if p.row(logs.running[0]).count() else p.row(logs.running[1])
    running.hover()
    running.locator(".trash").click()
    expect(p.notice()).to_contain_text("still running")
    expect(p.page.locator(".dialog")).to_have_count(0)
    expect(p.rows("Lead follow-up")).to_have_count(5)

    # a finished one goes after a confirmation
    doomed = p.row(logs.deletable)
    doomed.hover()
    trash = doomed.locator(".trash")
    expect(trash).to_be_visible()  # shown on hover
    trash.click()
    dialog = p.page.locator(".dialog")
    expect(dialog).to_contain_text("Delete this execution?")
    expect(dialog).to_contain_text("Lead follow-up")
    expect(dialog).to_contain_text(logs.deletable)
    dialog.locator(".cancel").click()
    expect(dialog).to_have_count(0)
    expect(p.rows("Lead follow-up")).to_have_count(5)  # cancelled: nothing deleted

    doomed.hover()
    trash.click()
    dialog.locator(".confirm").click()
    expect(p.notice()).to_contain_text("Execution deleted.")
    expect(p.row(logs.deletable)).to_have_count(0)
    expect(p.rows("Lead follow-up")).to_have_count(4)
    expect(p.tab("all").locator(".count")).to_have_text(str(before - 1))
    expect(p.group("Lead follow-up").locator(".runs")).to_have_text("4 runs")

    on_disk = parquet_ids(logs.root)
    assert logs.deletable not in on_disk
    assert set(logs.running) <= on_disk
    assert len(on_disk) == logs.counts["all"] - 1  # exactly that one is gone
    assert page.errors == []


def test_clear_all_says_how_many_and_keeps_the_running_ones(own_server, page):
    logs = own_server.logs
    p = LogsPage(page, own_server.url).open()
    finished = logs.counts["all"] - logs.counts["running"]

    p.page.locator(".clear-all button").click()
    dialog = p.page.locator(".dialog")
    expect(dialog).to_contain_text(f"This permanently deletes {finished} executions")
    expect(dialog).to_contain_text(f"{logs.counts['running']} running executions are kept")
    dialog.locator(".confirm").click()

    expect(p.notice()).to_contain_text(f"Deleted {finished} executions")
    expect(p.tab("all").locator(".count")).to_have_text(str(logs.counts["running"]))
    expect(p.tab("running").locator(".count")).to_have_text(str(logs.counts["running"]))
    expect(p.tab("failed").locator(".count")).to_have_text("0")
    expect(p.groups()).to_have_count(2)
    assert set(p.group_names()) == {"Daily digest", "Lead follow-up"}
    assert parquet_ids(logs.root) == set(logs.running)


WRITE_ONE = textwrap.dedent("""
    import sys
    from dashboard.recorder import Recorder

    with Recorder.open(sys.argv[1]) as recorder:
        with recorder.execution("Live arrival", trigger="incoming_message", phone="+4915100000001") as run:
            with run.step("AI Response", "ai_response") as step:
                step.ai(model="gpt-4o-mini", reply="Hello!", prompt_tokens=10, completion_tokens=3)
            with run.step("Send Message", "send_message"):
                run.message_sent()
        with recorder.execution("Order reminder") as run:
            with run.step("Send Message", "send_message"):
                run.message_sent()
""")


def test_new_events_appear_without_a_click_and_keep_what_is_open(own_server, page):
    logs = own_server.logs
    p = LogsPage(page, own_server.url).open()
    p.expand("Order reminder")
    p.row(logs.failed_execution).click()
    p.wait_detail(logs.failed_execution)
    p.expand_step(1)
    before = p.count("all")
    # buttons that live data changes around: only these very nodes get the mark
    buttons = [p.tab("all"), p.page.locator(".summary button.close"), p.page.locator("[role=tab][data-view=steps]")]
    for button in buttons:
        button.evaluate("node => node.setAttribute('data-marked', '')")

    subprocess.run([sys.executable, "-c", WRITE_ONE, str(logs.root)], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    written = time.monotonic()
    expect(p.group("Live arrival")).to_be_visible(timeout=5000)
    expect(p.tab("all").locator(".count")).to_have_text(str(before + 2))
    shown_after = time.monotonic() - written
    print(f"new events shown {shown_after:.2f} s after they were written")
    assert shown_after < 3.0, f"the new execution took {shown_after:.1f} s to appear"

    assert p.group_names()[0] in ("Order reminder", "Live arrival")  # the newest activity on top
    expect(p.group("Order reminder").locator(".runs")).to_have_text("31 runs")
    # what the user had open is still open
    expect(p.group("Order reminder")).to_have_attribute("aria-expanded", "true")
    expect(p.rows("Order reminder").first.locator(".chip")).to_have_text("Completed")  # the new run, on top
    expect(p.page.locator(".summary .exec-id")).to_have_text(logs.failed_execution)
    expect(p.step(1)).to_have_attribute("aria-expanded", "true")
    expect(p.page.locator(".step-card.expanded")).to_contain_text("Invalid phone number")
    expect(p.row(logs.failed_execution)).to_be_visible()

    # Refresh reloads and keeps it all too
    p.page.locator(".refresh button").click()
    expect(p.step(1)).to_have_attribute("aria-expanded", "true")
    expect(p.group("Order reminder")).to_have_attribute("aria-expanded", "true")
    # the refreshes changed counts and the summary in place: a button replaced between a press and
    # its release gets no click
    for button in buttons:
        expect(button).to_have_attribute("data-marked", "")
    assert page.errors == []


def test_a_running_execution_shows_each_new_step_as_it_arrives_and_still_closes(own_server, page):
    logs = own_server.logs
    running = logs.running[0]
    p = LogsPage(page, f"{own_server.url}?execution={running}").open()
    p.wait_detail(running)
    steps = p.steps().count()
    summary_steps = page.locator(".summary .fact", has_text="Steps").locator(".value")
    expect(summary_steps).to_have_text(str(steps))
    close = page.locator(".summary button.close")
    close.evaluate("node => node.setAttribute('data-marked', '')")  # only this very node has the mark

    now = dt.datetime.now(dt.timezone.utc)
    with Writer(Store(logs.root), flush_interval=None) as writer:  # the engine's next step, as it finishes
        writer.write(StepFinished(execution_id=running, index=steps, node_id="n-late", node_name="Late step",
                                  node_type="set_variable", status=StepStatus.COMPLETED,
                                  started_at=now - dt.timedelta(seconds=1), finished_at=now))
    expect(p.steps()).to_have_count(steps + 1, timeout=5000)  # without a click
    expect(p.step(steps)).to_contain_text("Late step")
    expect(summary_steps).to_have_text(str(steps + 1))
    expect(page.locator("[role=tab][data-view=steps] .count")).to_have_text(str(steps + 1))
    # the summary was redrawn around its close button, not over it: a button replaced between a
    # press and its release gets no click
    expect(close).to_have_attribute("data-marked", "")
    close.click()
    expect(page.locator(".summary .exec-id")).to_have_count(0)
    assert page.errors == []


def test_the_list_holds_still_under_the_pointer_and_catches_up_when_it_leaves(own_server, page):
    """With many busy flows the order changes with every refresh; a row must not slip away from a click."""
    logs = own_server.logs
    p = LogsPage(page, own_server.url).open()
    p.expand("Order reminder")
    order = p.group_names()
    p.row(logs.failed_execution).hover()  # the pointer rests on the list, as before a click
    before = p.count("all")

    subprocess.run([sys.executable, "-c", WRITE_ONE, str(logs.root)], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    expect(p.tab("all").locator(".count")).to_have_text(str(before + 2), timeout=5000)  # the page did refresh
    held = page.locator(".held-note")
    expect(held).to_be_visible()
    expect(held).to_have_text("Live updates held while the pointer is on the list")
    assert p.group_names() == order  # ... but not under the pointer
    expect(p.group("Live arrival")).to_have_count(0)
    expect(p.group("Order reminder").locator(".runs")).to_have_text("30 runs")

    # a click is answered at once, held or not (and draws the held update with it)
    p.row(logs.failed_execution).click()
    p.wait_detail(logs.failed_execution)
    expect(p.row(logs.failed_execution)).to_have_class(re.compile(r"\bselected\b"))

    page.mouse.move(5, 5)  # the pointer leaves the list: everything new shows
    expect(p.group("Live arrival")).to_be_visible()
    expect(p.group("Order reminder").locator(".runs")).to_have_text("31 runs")
    expect(held).to_be_hidden()
    expect(p.group("Order reminder")).to_have_attribute("aria-expanded", "true")
    assert page.errors == []
