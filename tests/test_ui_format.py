"""What the dashboard's components send to the browser (dashboard/ui/format.py, step_card.py)."""

from __future__ import annotations

import datetime as dt

from dashboard.ui.format import esc, execution_item, node_type_label, step_item
from dashboard.ui.step_card import step_details_html

EVIL = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> \'; DROP TABLE executions; --'


def test_every_log_string_in_step_details_is_escaped():
    at = dt.datetime(2026, 11, 20, 23, 59, 58, tzinfo=dt.timezone.utc)
    step = {"index": 0, "node_id": EVIL, "node_name": EVIL, "node_type": EVIL, "status": EVIL, "started_at": at,
            "finished_at": at, "duration_ms": 5, "model": EVIL, "prompt_tokens": 1, "completion_tokens": 2,
            "system_prompt": EVIL, "user_prompt": EVIL, "ai_reply": EVIL, "warnings": [EVIL], "error": EVIL}
    html = step_details_html(step)
    assert "<script" not in html and "<img" not in html and 'onerror="' not in html
    assert html.count(esc(EVIL)) >= 8  # node, id, model, status, prompts, reply, warning, error


def test_items_carry_log_strings_unchanged_for_the_browser_to_show_as_text():
    row = {"execution_id": EVIL, "flow_name": EVIL, "status": "failed", "trigger_type": "incoming_message",
           "trigger_phone": "+4915112345678", "started_at": dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
           "finished_at": None, "duration_ms": 1500, "messages_sent": 3, "messages_failed": 1, "error": EVIL}
    item = execution_item(row)
    assert item["flow_name"] == EVIL and item["id"] == EVIL and item["error"] == EVIL
    assert item["started"] == 1_795_132_800_000 and item["finished"] is None
    assert (item["sent"], item["failed"], item["phone"]) == (3, 1, "+4915112345678")


def test_step_headers_and_node_type_labels():
    item = step_item({"index": 2, "node_name": "AI Response", "node_type": "ai_response", "status": "completed",
                      "duration_ms": 1200, "model": "gpt-4o-mini", "prompt_tokens": 412, "completion_tokens": 96,
                      "warnings": [], "error": None})
    assert item["ai"] and item["prompt_tokens"] + item["completion_tokens"] == 508
    assert not step_item({"index": 0, "status": "completed", "prompt_tokens": None, "completion_tokens": None,
                          "model": None})["ai"]
    assert [node_type_label(t) for t in ("send_message", "ai_response", "loop_rows")] == [
        "Send Message", "AI Response", "Loop Rows"]
