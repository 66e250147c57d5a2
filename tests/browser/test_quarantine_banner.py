"""A corrupt Parquet file in a partition: every other execution stays visible, the file is moved
to quarantine/ and the page says so in a banner (how many, where, and the command that lists them)."""

from __future__ import annotations

import pytest
from conftest import copy_logs, start_server
from logs_page import LogsPage
from planted import parquet_ids
from playwright.sync_api import expect

from dashboard.store import Store

pytestmark = pytest.mark.browser


@pytest.fixture
def corrupt_server(logs_template, tmp_path):
    logs = copy_logs(logs_template, tmp_path / "logs")
    newest = sorted((logs.root / "executions").glob("day=*"))[-1]
    (newest / "part-garbage.parquet").write_bytes(b"PAR1 this is not a parquet file")
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
    assert [m["file"].rsplit("/", 1)[1] for m in moved] == ["part-garbage.parquet"]
    assert not list(logs.root.glob("executions/*/part-garbage.parquet"))
    assert list((logs.root / "quarantine").rglob("part-garbage.parquet"))
    assert len(parquet_ids(logs.root)) == logs.counts["all"]

    # closed, it stays closed until another file is moved aside (here: while the page is open)
    banner.locator(".close").click()
    expect(banner).to_be_hidden()
    day = Store(logs.root).find_days([logs.failed_execution])[logs.failed_execution]
    (logs.root / "steps" / f"day={day}" / "part-cut.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    p.open_execution("Order reminder", logs.failed_execution)  # reads the steps of that day
    expect(banner).to_contain_text("2 unreadable data files were moved aside")
    expect(p.page.locator(".step")).to_have_count(2)
    assert page.errors == []
