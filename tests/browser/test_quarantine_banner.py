"""A damaged Parquet file a table lists: every other execution stays visible, the file is moved
to quarantine/ and the page says so in a banner (how many, where, and the command that lists them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import copy_logs, start_server
from factories import parsed, started, step
from logs_page import LogsPage
from planted import parquet_ids
from playwright.sync_api import expect

from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

pytestmark = pytest.mark.browser


def plant_damaged_file(root, event: dict, garbage: bytes) -> Path:
    """A file the table lists (written and committed like any flush), then its bytes destroyed."""
    store = Store(root)
    dataset = "steps" if event["type"] == "step_finished" else "executions"
    before = set(store.files(dataset))
    with Writer(store, flush_interval=None) as writer:
        writer.write(parsed(event))
    (new,) = set(store.files(dataset)) - before
    Path(new).write_bytes(garbage)
    return Path(new)


@pytest.fixture
def corrupt_server(logs_template, tmp_path):
    logs = copy_logs(logs_template, tmp_path / "logs")
    newest = Store(logs.root).days()[-1]
    ghost = started("ghost", dt.datetime.combine(newest, dt.time(0, 0, 1), dt.UTC), flow_name="Order reminder")
    logs.garbage = plant_damaged_file(logs.root, ghost, b"PAR1 this is not a parquet file")
    server = start_server(logs.root, tmp_path / "server.log")
    server.logs = logs
    yield server
    server.stop()


def test_a_corrupt_file_is_moved_aside_the_rest_stays_visible_and_a_banner_says_so(corrupt_server, page):
    logs = corrupt_server.logs
    p = LogsPage(page, corrupt_server.url).open()
    assert {tab: p.count(tab) for tab in logs.counts} == logs.counts  # every other execution
    assert set(p.group_names()) == set(logs.runs)
    expect(p.expand("Order reminder")).to_have_count(25)  # a full page, from the day the bad file was in

    banner = page.locator(".quarantine-banner .banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("1 unreadable data file was moved aside to "
                                   f"{logs.root / 'quarantine'}")
    expect(banner).to_contain_text(f"flowlogs quarantine --data {logs.root}")
    moved = Store(logs.root).quarantined()
    assert [m["file"] for m in moved] == [str(logs.garbage)]
    assert not logs.garbage.exists() and list((logs.root / "quarantine").rglob(logs.garbage.name))
    assert len(parquet_ids(logs.root)) == logs.counts["all"]

    # closed, it stays closed until another file is moved aside (here: while the page is open)
    banner.locator(".close").click()
    expect(banner).to_be_hidden()
    # a re-delivered step of the failed execution, in a file cut short
    record = LogQueries(Store(logs.root)).execution(logs.failed_execution)
    plant_damaged_file(logs.root, step(logs.failed_execution, 0, record["steps"][0]["started_at"]),
                       b"PAR1" + b"\0" * 64)
    p.open_execution("Order reminder", logs.failed_execution)  # reads the steps of that day
    expect(banner).to_contain_text("2 unreadable data files were moved aside")
    expect(p.page.locator(".step")).to_have_count(2)
    assert page.errors == []
