"""The dashboard opens any stored step, whatever its JSON (issue 15, items 1 and 2).

Ingest now refuses JSON nested deeper than MAX_JSON_DEPTH and numbers out of range, but a store may
hold rows an older or foreign writer stored: the step card and the comparison show them as text.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import start_server
from factories import UTC, finished, line, started, step
from logs_page import LogsPage
from playwright.sync_api import expect

from dashboard import events
from dashboard.store import Store
from dashboard.writer import Writer

pytestmark = pytest.mark.browser

FLOW = "Checkout"


def raw_step(execution_id: str, at: dt.datetime, input_text: str, **fields) -> str:
    return line(step(execution_id, 0, at, **fields))[:-1] + f', "input": {input_text}}}'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("untrusted") / "logs"
    now = dt.datetime.now(UTC).replace(microsecond=0)
    runs = {"good": ('{"amount": 5}', "completed", 3), "deep": ("[" * 950 + "]" * 950, "failed", 2),
            "huge": ('{"amount": 1e400}', "failed", 1)}
    with Writer(Store(root), flush_interval=None) as writer:
        for execution_id, (input_text, status, hours) in runs.items():
            at = now - dt.timedelta(hours=hours)
            for text in (line(started(execution_id, at, flow_name=FLOW)),
                         raw_step(execution_id, at, input_text, status=status,
                                  error=None if status == "completed" else "payment declined"),
                         line(finished(execution_id, at + dt.timedelta(seconds=2), status))):
                writer.write(events._decoder.decode(text))  # as an older ingest stored them: no limits
    server = start_server(root, root.parent / "server.log", via="serve")
    yield server
    server.stop()


@pytest.mark.parametrize("execution_id, reason", [("deep", "nested deeper than 64 levels"),
                                                  ("huge", "a number out of range")])
def test_a_step_stored_too_deep_or_out_of_range_opens_and_shows_its_text(server, page, execution_id, reason):
    p = LogsPage(page, f"{server.url}?execution={execution_id}").open()
    p.wait_detail(execution_id)
    details = p.expand_step(0)
    expect(details).to_contain_text("payment declined")
    body = page.locator(".step-card.expanded .step-body")
    expect(body).to_contain_text(f"Shown as text: {reason}.")
    expect(body.locator(".text-block.mono")).to_contain_text("1e400" if execution_id == "huge" else "[[[[")

    # the comparison with the last success takes the stored text as one value
    p = LogsPage(page, f"{server.url}?execution={execution_id}&view=compare").open()
    expect(page.locator(".compare .baseline-link")).to_have_text("good")
    expect(page.locator(".compare .diff-step.failing")).to_contain_text("payment declined")
    assert page.errors == [], json.dumps(page.errors)
    assert "Traceback" not in server.log.read_text()
