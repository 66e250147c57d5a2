"""The Execution Logs page's components, in-process: each Viewer built with a LogsState over a real small
store (written by tests/factories.py through the Writer, read through the real LogSource), and checked by
what it would send to the browser, the parameters of its browser component, after the state changes
and the browser's messages (`_handle_msg`) a click would send. Seconds, where tests/browser/ takes minutes;
a source that fails stands in only for the errors a healthy store cannot produce."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import panel as pn
import pytest
from factories import parsed, started, step, uuid7_at
from ui_inproc import (
    BAD_PHONE,
    BROADCAST,
    EVIL_FLOW,
    EVIL_NODE,
    LEAD,
    RATE_LIMIT,
    SUPPORT,
    settle,
    write_store,
)

from dashboard.auth import Role, Session
from dashboard.logs import open_logs
from dashboard.privacy import Privacy
from dashboard.store import Store
from dashboard.ui import flow_groups as flow_groups_module
from dashboard.ui import source as source_module
from dashboard.ui.confirm import ConfirmDialog
from dashboard.ui.detail_panel import DetailPanel
from dashboard.ui.failure_causes import FailureCausesPanel
from dashboard.ui.filter_tabs import FilterTabs
from dashboard.ui.flow_groups import FlowGroupList
from dashboard.ui.format import esc
from dashboard.ui.json_tree import JsonTree
from dashboard.ui.notice import Notice
from dashboard.ui.page import ExecutionLogsPage, refusal_page
from dashboard.ui.range_picker import RangePicker
from dashboard.ui.search_box import SearchBox
from dashboard.ui.source import LogSource
from dashboard.ui.state import LogsState
from dashboard.writer import Writer

ALL_FLOWS = [LEAD, EVIL_FLOW, SUPPORT, BROADCAST]  # most recent activity first
CAUSES = {"whatsapp_connection": "WhatsApp connection issue", "invalid_phone": "Invalid phone number",
          "ai_provider": "AI provider error", "template_variable": "Missing or incorrect template variable",
          "other": "Other"}  # in the order the cards show them


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One store for the tests that only read."""
    root = tmp_path_factory.mktemp("ui-viewers") / "logs"
    ids = write_store(root)
    return open_logs(root), ids


@pytest.fixture
def logs(shared):
    return shared[0]


@pytest.fixture
def ids(shared):
    return shared[1]


@pytest.fixture
def source(logs):
    return LogSource(logs.queries)


@pytest.fixture
def state():
    return LogsState()


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A store of its own, for tests that delete or add, and the real page of one session over it."""
    monkeypatch.delenv("FLOWLOGS_PRICES", raising=False)
    root = tmp_path / "logs"
    ids = write_store(root)
    logs = open_logs(root)
    page = settle(lambda: ExecutionLogsPage(logs, LogSource(logs.queries), poll_ms=60_000))
    return page, logs, ids


def groups(flow_list: FlowGroupList) -> list[str]:
    return [g["flow_name"] for g in flow_list.view.groups]


def rows(flow_list: FlowGroupList, flow: str) -> list[str]:
    return [r["id"] for r in flow_list.view.executions[flow]["rows"]]


def browser_sends(viewer, message) -> None:
    """What the viewer's browser component sends on a click (JSComponent's `send_msg`)."""
    settle(lambda: viewer.view._handle_msg(message))


class FailingSource(LogSource):
    """The real source, but every read of counts and records fails as a vanished disk would."""

    async def tab_counts(self, scope=None):
        raise OSError("disk went away")

    async def execution(self, execution_id):
        raise OSError("disk went away")


# -- filter tabs -----------------------------------------------------------------------------------


def test_the_tabs_count_each_tab_and_follow_the_state_both_ways(state, source):
    tabs = FilterTabs(state, source)
    assert tabs.__panel__() is tabs.view and tabs.view.counts == {}  # nothing counted before the first load
    assert tabs.view.labels == {"all": "All", "running": "Running", "failed": "Failed", "completed": "Completed"}
    settle(lambda: state.refresh(source.change_token()))
    assert tabs.view.counts == {"all": 5, "running": 1, "failed": 2, "completed": 2}
    settle(lambda: setattr(state, "tab", "failed"))
    assert tabs.view.value == "failed"
    settle(lambda: setattr(tabs.view, "value", "running"))  # a click in the browser
    assert state.tab == "running"


def test_the_counts_follow_the_range_the_search_and_the_cause(state, source):
    tabs = FilterTabs(state, source)
    settle(lambda: setattr(state, "range", "24h"))  # the broadcast of three days ago drops out
    assert tabs.view.counts == {"all": 4, "running": 1, "failed": 2, "completed": 1}
    settle(lambda: setattr(state, "search", "rate limit"))
    assert tabs.view.counts == {"all": 1, "running": 0, "failed": 1, "completed": 0}
    settle(lambda: state.param.update(search="", cause="invalid_phone"))
    assert tabs.view.counts == {"all": 1, "running": 0, "failed": 1, "completed": 0}


def test_a_failed_count_is_told_to_the_user_as_an_error(state, logs):
    source = FailingSource(logs.queries)
    tabs, notice = FilterTabs(state, source), Notice(state)
    settle(lambda: state.refresh())
    assert tabs.view.counts == {}
    assert (state.notice, state.notice_kind) == ("Could not count the executions: disk went away", "error")
    assert (notice.view.text, notice.view.kind, notice.view.visible) == (state.notice, "error", True)


# -- flow groups and their executions --------------------------------------------------------------------


def test_groups_list_each_flow_once_most_recent_first_with_its_runs_and_failures(state, source):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    assert flows.view.empty_text == "Loading executions…" and flows.view.groups == []
    settle(lambda: state.refresh())
    assert groups(flows) == ALL_FLOWS
    by_name = {g["flow_name"]: g for g in flows.view.groups}
    assert (by_name[SUPPORT]["runs"], by_name[SUPPORT]["failed_runs"], by_name[SUPPORT]["has_failures"]) == (2, 1, True)
    assert by_name[SUPPORT]["latest_status"] == "failed" and by_name[LEAD]["latest_status"] == "running"
    assert (by_name[BROADCAST]["has_failures"], by_name[BROADCAST]["failed_runs"]) == (False, 0)
    now = dt.datetime.now(dt.UTC).timestamp() * 1000
    assert now - 6 * 60_000 < by_name[LEAD]["last_activity"] <= now  # its start five minutes ago
    assert flows.view.hidden == 0 and not flows.view.expanded and flows.view.executions == {}


def test_the_failed_tab_shows_only_failed_runs(state, source):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: setattr(state, "tab", "failed"))
    assert groups(flows) == [EVIL_FLOW, SUPPORT]
    assert all(g["tab"] == "failed" and g["runs"] == 1 and g["latest_status"] == "failed" for g in flows.view.groups)


def test_a_flow_name_holding_html_is_sent_as_data_not_markup(state, source, ids):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: state.param.update(flows=[EVIL_FLOW], tab="failed"))
    assert EVIL_FLOW in groups(flows)  # drawn with textContent in the browser: the text as it is
    assert flows.view.executions[EVIL_FLOW]["rows"][0]["flow_name"] == EVIL_FLOW
    assert flows.view.executions[EVIL_FLOW]["rows"][0]["error"] == BAD_PHONE
    assert rows(flows, EVIL_FLOW) == [ids["evil"]]


def test_expanding_a_flow_lists_its_executions_newest_first_and_collapsing_drops_them(state, source, ids):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: state.refresh())
    browser_sends(flows, {"action": "toggle", "flow": SUPPORT})
    assert state.flows == [SUPPORT] and flows.view.expanded == [SUPPORT]
    shown = flows.view.executions[SUPPORT]
    assert rows(flows, SUPPORT) == [ids["support_failed"], ids["support_ok"]]
    assert (shown["page"], shown["has_next"], shown["total"], shown["loading"], shown["can_delete"]) == (
        0, False, 2, False, True)
    first, second = shown["rows"]
    assert (first["status"], first["error"], first["failed"]) == ("failed", RATE_LIMIT, 1)
    assert (second["status"], second["phone"], second["trigger"], second["sent"]) == (
        "completed", "+4915112345678", "incoming_message", 1)
    settle(lambda: setattr(state, "tab", "completed"))  # the open group follows the tab
    assert rows(flows, SUPPORT) == [ids["support_ok"]]
    browser_sends(flows, {"action": "toggle", "flow": SUPPORT})
    assert state.flows == [] and flows.view.expanded == [] and flows.view.executions == {} and flows.rows == {}


def test_a_flow_expanded_by_a_link_loads_its_rows_with_the_groups(source, ids):
    state = LogsState(flows=[BROADCAST], execution=ids["broadcast"])
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: state.refresh())
    assert flows.view.expanded == [BROADCAST] and flows.view.selected == ids["broadcast"]
    assert rows(flows, BROADCAST) == [ids["broadcast"]]


def test_clicks_in_the_rows_open_page_and_ask_to_delete(source, ids):
    state = LogsState(page_size=1)
    asked = []
    flows = FlowGroupList(state, source, on_delete=asked.append)
    settle(lambda: state.param.update(flows=[SUPPORT], revision=1))
    assert rows(flows, SUPPORT) == [ids["support_failed"]] and flows.view.executions[SUPPORT]["has_next"]
    browser_sends(flows, {"action": "page", "flow": SUPPORT, "page": 1})
    assert state.pages == {SUPPORT: 1}
    assert rows(flows, SUPPORT) == [ids["support_ok"]] and not flows.view.executions[SUPPORT]["has_next"]
    browser_sends(flows, {"action": "open", "flow": SUPPORT, "id": ids["support_ok"]})
    assert state.execution == ids["support_ok"] and flows.view.selected == ids["support_ok"]
    browser_sends(flows, {"action": "delete", "flow": SUPPORT, "id": ids["support_ok"]})
    browser_sends(flows, {"action": "delete", "flow": SUPPORT, "id": "not-on-this-page"})  # forged: ignored
    assert [row["id"] for row in asked] == [ids["support_ok"]] and asked[0]["status"] == "completed"


def test_a_page_emptied_under_the_user_steps_back_to_the_last_page_with_rows(fresh):
    _, logs, ids = fresh
    state, source = LogsState(page_size=1), LogSource(logs.queries)
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: state.param.update(flows=[SUPPORT], pages={SUPPORT: 1}, revision=1))
    assert rows(flows, SUPPORT) == [ids["support_ok"]] and flows.view.executions[SUPPORT]["page"] == 1
    logs.store.delete_execution(ids["support_ok"])  # deleted in another session
    settle(lambda: state.refresh(source.change_token()))
    assert state.pages == {SUPPORT: 0} and rows(flows, SUPPORT) == [ids["support_failed"]]
    assert flows.view.executions[SUPPORT]["total"] == 1


def test_viewers_get_no_delete_icon(state, source):
    flows = FlowGroupList(state, source, on_delete=lambda row: None, can_delete=False)
    settle(lambda: state.param.update(flows=[SUPPORT], revision=1))
    assert flows.view.executions[SUPPORT]["can_delete"] is False


def test_a_search_narrows_the_groups_and_says_why_a_list_is_empty(state, source, ids):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    box = SearchBox(state)
    settle(lambda: setattr(box.input, "value", "  rate limit  "))  # typed, then Enter
    assert state.search == "rate limit" and box.clear.visible
    assert groups(flows) == [SUPPORT] and flows.view.groups[0]["runs"] == 1
    settle(lambda: setattr(state, "search", "+4915112345678"))  # a phone number finds the runs it triggered
    assert groups(flows) == [SUPPORT]
    settle(lambda: setattr(state, "search", ids["broadcast"]))  # an execution id finds its flow
    assert groups(flows) == [BROADCAST]
    settle(lambda: setattr(state, "search", "no such words anywhere"))
    assert flows.view.groups == []
    assert flows.view.empty_text == "No executions match the search, cause and time range chosen."
    settle(lambda: setattr(state, "tab", "failed"))
    assert flows.view.empty_text == "No failed executions match the search, cause and time range chosen."
    settle(lambda: setattr(box.clear, "clicks", box.clear.clicks + 1))  # the Clear button
    assert state.search == "" and box.input.value == "" and not box.clear.visible
    assert groups(flows) == [EVIL_FLOW, SUPPORT]


def test_an_empty_store_says_there_is_nothing_yet(tmp_path):
    logs = open_logs(tmp_path / "empty")
    state = LogsState()
    flows = FlowGroupList(state, LogSource(logs.queries), on_delete=lambda row: None)
    settle(lambda: state.refresh())
    assert (flows.view.groups, flows.view.empty_text) == ([], "No executions yet.")
    settle(lambda: setattr(state, "tab", "running"))
    assert flows.view.empty_text == "No running executions."


def test_only_the_first_groups_are_drawn_and_an_expanded_one_always(state, source, monkeypatch):
    monkeypatch.setattr(flow_groups_module, "GROUPS_SHOWN", 2)
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: state.refresh())
    assert groups(flows) == ALL_FLOWS[:2] and flows.view.hidden == 2
    settle(lambda: state.toggle_flow(BROADCAST))  # the last one, opened by a link
    assert groups(flows) == ALL_FLOWS and flows.view.hidden == 0 and flows.view.expanded == [BROADCAST]
    settle(lambda: state.toggle_flow(BROADCAST))
    browser_sends(flows, {"action": "more"})
    assert groups(flows) == ALL_FLOWS and flows.view.hidden == 0


# -- the detail panel ----------------------------------------------------------------------------------


def test_opening_an_execution_fills_the_detail_panel_with_its_steps_in_order(state, source, ids):
    detail = DetailPanel(state, source)
    assert not detail.shown and detail.summary.execution is None
    settle(lambda: state.open_execution(ids["support_ok"]))
    assert detail.shown and detail.__panel__() is detail.layout
    summary = detail.summary.execution
    assert (summary["id"], summary["flow_name"], summary["status"], summary["phone"]) == (
        ids["support_ok"], SUPPORT, "completed", "+4915112345678")
    assert detail.summary.steps == 3 and detail.switch.steps == 3 and detail.summary.message == ""
    steps = detail.cards.view.steps  # written 2, 0, 1: shown in the order they ran
    assert [s["index"] for s in steps] == [0, 1, 2]
    assert [s["node_name"] for s in steps] == ["AI Response", EVIL_NODE, "Send reply"]  # data, drawn as text
    assert (steps[0]["ai"], steps[0]["prompt_tokens"], steps[0]["completion_tokens"]) == (True, 400, 100)
    assert not steps[1]["ai"] and steps[1]["duration"] == 4000
    assert detail.switch.compare is False  # a success has nothing to compare
    assert detail.cards.view.expanded == [] and detail.cards.view.bodies == []


def test_an_expanded_step_shows_its_details_escaped_and_its_input_as_a_tree(state, source, ids):
    detail = DetailPanel(state, source)
    settle(lambda: state.open_execution(ids["support_ok"]))
    settle(lambda: detail.cards.view._handle_msg({"action": "toggle", "index": 1}))  # a click on the step
    assert state.steps == [1] and detail.cards.view.expanded == [1] and detail.cards.view.body_steps == [1]
    body = detail.cards.view.bodies[0]
    details = body.objects[0].object
    assert esc(EVIL_NODE) in details and EVIL_NODE not in details and "<img" not in details
    trees = [o for o in body.objects if isinstance(o, pn.pane.JSON)]  # the input; the output is "none"
    assert [tree.object for tree in trees] == [{"order": 42}]
    settle(lambda: state.refresh())  # an auto-refresh keeps the step open and its body as it was
    assert detail.cards.view.expanded == [1] and detail.cards.view.bodies[0] is body
    settle(lambda: state.toggle_step(1))
    assert detail.cards.view.expanded == [] and detail.cards.view.bodies == []


def test_the_timeline_draws_a_bar_per_step_and_escapes_the_slowest_name(source, ids):
    state = LogsState(view="timeline")
    detail = DetailPanel(state, source)
    settle(lambda: state.open_execution(ids["support_ok"]))
    assert detail.timeline.layout.visible and not detail.cards.view.visible
    data = detail.timeline.steps.data
    assert data["index"] == [1, 2, 3] and data["name"] == ["AI Response", EVIL_NODE, "Send reply"]
    assert data["left"] == [0.0, 1.0, 2.0] and data["right"] == [1.0, 5.0, 3.0]
    caption = detail.timeline.caption.object
    assert "3 steps" in caption and esc(EVIL_NODE) in caption and "<img" not in caption
    settle(lambda: setattr(state, "view", "steps"))
    assert detail.cards.view.visible and not detail.timeline.layout.visible


def test_a_running_execution_has_a_bar_growing_from_its_last_step_to_now(source, ids):
    state = LogsState(view="timeline")
    detail = DetailPanel(state, source)
    before = dt.datetime.now(dt.UTC).timestamp() * 1000
    settle(lambda: state.open_execution(ids["running"]))
    after = dt.datetime.now(dt.UTC).timestamp() * 1000
    started_ms = detail.summary.execution["started"]
    assert detail.summary.execution["status"] == "running" and detail.summary.execution["finished"] is None
    running = detail.timeline.running.data
    assert running["y"] == ["2. (running…)"] and running["left"] == [1.0]  # its one step ended a second in
    assert (before - started_ms) / 1000 - 0.001 <= running["right"][0] <= (after - started_ms) / 1000 + 0.001
    assert "running: the hatched bar grows" in detail.timeline.caption.object


def test_a_failed_execution_is_compared_with_the_flows_last_success(source, ids):
    state = LogsState(view="compare")
    detail = DetailPanel(state, source)
    settle(lambda: state.open_execution(ids["support_failed"]))
    assert detail.switch.compare is True and detail.comparison.view.visible
    comparison = detail.comparison.view.comparison
    assert comparison is not None and comparison["baseline"]["id"] == ids["support_ok"]
    assert comparison["baseline"]["status"] == "completed"
    assert detail.summary.execution["error"] == RATE_LIMIT
    # another execution that did not fail has nothing to compare: the panel falls back to its steps
    settle(lambda: state.open_execution(ids["broadcast"]))
    assert state.view == "steps" and detail.switch.value == "steps" and detail.switch.compare is False
    assert detail.cards.view.visible and not detail.comparison.view.visible


def test_the_close_button_and_a_deleted_execution(state, source, ids):
    detail = DetailPanel(state, source)
    settle(lambda: state.open_execution(ids["broadcast"]))
    settle(lambda: detail.summary._handle_msg("close"))
    assert state.execution == "" and not detail.shown and detail.summary.execution is None
    assert detail.cards.view.steps == []
    settle(lambda: state.open_execution("0190c0de-0000-7000-8000-000000000000"))
    assert detail.shown and detail.summary.execution is None
    assert detail.summary.message == "This execution no longer exists: it was deleted or removed by retention."


def test_a_detail_that_cannot_be_read_says_so_in_the_panel(state, logs, ids):
    detail = DetailPanel(state, FailingSource(logs.queries))
    settle(lambda: state.open_execution(ids["broadcast"]))
    assert detail.summary.execution is None and detail.summary.message == "Could not load: disk went away"


# -- failure causes, range, notice, confirmation ------------------------------------------------------


def test_failure_causes_count_each_cause_and_a_click_narrows_the_page(state, source):
    causes = FailureCausesPanel(state, source)
    tabs = FilterTabs(state, source)
    settle(lambda: state.refresh())
    shown = causes.view.causes
    assert causes.view.loaded and causes.view.bucket == "day"
    assert {c["key"]: c["label"] for c in shown} == CAUSES and [c["key"] for c in shown] == list(CAUSES)
    assert {c["key"]: c["count"] for c in shown} == {"whatsapp_connection": 0, "invalid_phone": 1, "ai_provider": 1,
                                                    "template_variable": 0, "other": 0}
    assert all(sum(c["series"]) == c["count"] for c in shown)
    browser_sends(causes, {"cause": "ai_provider"})
    assert (state.cause, state.tab, causes.view.active) == ("ai_provider", "failed", "ai_provider")
    assert tabs.view.counts["failed"] == 1
    assert {c["key"]: c["count"] for c in causes.view.causes}["invalid_phone"] == 1  # the cause does not narrow them
    browser_sends(causes, {"cause": "<script>"})  # not a cause: ignored
    assert state.cause == "ai_provider"
    browser_sends(causes, {"cause": ""})  # Show all executions
    assert state.cause == "" and causes.view.active == "" and tabs.view.counts["failed"] == 2


def test_failure_causes_count_by_the_hour_over_short_ranges(state, source):
    causes = FailureCausesPanel(state, source)
    settle(lambda: setattr(state, "range", "24h"))
    assert causes.view.bucket == "hour" and len(causes.view.causes[0]["series"]) == 25  # 24 hours and this one


def test_the_range_picker_follows_the_state_and_says_which_bound_it_cannot_read(state):
    picker = RangePicker(state)
    assert picker.presets.value == "all" and not picker.custom.visible
    picker.presets.value = "custom"
    assert state.range == "custom" and picker.custom.visible
    picker.since.value = " 2026-11-01 "
    picker.until.value = "someday"
    assert (state.since, state.until) == ("2026-11-01", "someday")
    assert picker.problem.object.startswith("Until: not a date or time")
    assert state.bounds() == (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), None)
    state.param.update(range="7d", until="")  # a link or another component changes it
    assert picker.presets.value == "7d" and not picker.custom.visible and picker.problem.object == ""


def test_the_notice_shows_the_state_message_again_and_hides_when_dismissed(state):
    notice = Notice(state)
    assert not notice.view.visible
    state.tell("Execution deleted.", "success")
    assert (notice.view.text, notice.view.kind, notice.view.visible, notice.view.shown) == (
        "Execution deleted.", "success", True, 1)
    state.tell("Execution deleted.", "success")  # the same again: drawn again (its timer restarts)
    assert notice.view.shown == 2
    notice.view.text = ""  # the browser's close button or its timer
    assert not notice.view.visible and state.notice == ""
    state.tell("Execution deleted.", "success")
    assert notice.view.visible and notice.view.text == "Execution deleted."


def test_the_confirmation_runs_its_action_once_and_only_when_confirmed():
    dialog = ConfirmDialog()
    ran = []

    async def action():
        ran.append(1)

    dialog.ask("Delete this execution?", f"The execution of “{EVIL_FLOW}” …", detail="Execution id: x",
               confirm_label="Delete", action=action)
    view = dialog.__panel__()
    assert (view.open, view.title, view.detail, view.confirm_label) == (True, "Delete this execution?",
                                                                         "Execution id: x", "Delete")
    assert EVIL_FLOW in view.message  # plain text: the dialog draws it with textContent
    settle(lambda: view._handle_msg("cancel"))
    assert not view.open and ran == []
    settle(lambda: view._handle_msg("confirm"))  # a confirm with nothing asked: nothing runs
    assert ran == []
    dialog.ask("Again?", "", action=action)
    settle(lambda: view._handle_msg("confirm"))
    settle(lambda: view._handle_msg("confirm"))  # a second (forged) confirm runs nothing more
    assert ran == [1] and not view.open


def test_json_trees_show_objects_as_trees_and_anything_else_as_escaped_text():
    assert isinstance(JsonTree('{"a": [1, 2]}').view, pn.pane.JSON)
    text = JsonTree('"<b>hi</b>"').view.object  # a JSON string: shown as text
    assert "&lt;b&gt;hi&lt;/b&gt;" in text and "<b>" not in text
    broken = JsonTree("<script>{not json").view.object
    assert "Shown as text" in broken and "&lt;script&gt;" in broken and "<script" not in broken


def test_a_refused_session_gets_a_page_that_escapes_what_it_quotes():
    page = refusal_page("You cannot use this dashboard", "User <img src=x onerror=alert(1)> is unknown",
                        sign_in_again=True)
    body = page.main[0].object
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img" not in body and 'href="./logout"' in body


# -- the whole page of one session -------------------------------------------------------------------------


def test_the_page_loads_every_component_once_the_browser_has_it(fresh):
    page, _, ids = fresh
    assert page.state.revision == 1 and page.state.change_token
    assert page.tabs.view.counts == {"all": 5, "running": 1, "failed": 2, "completed": 2}
    assert groups(page.groups) == ALL_FLOWS
    assert {c["key"]: c["count"] for c in page.failure_causes.view.causes}["ai_provider"] == 1
    assert not page.banner.view.visible and not page.notice.view.visible and not page.detail.shown
    assert page.header.clear.visible  # the local user is an admin
    assert page.tokens is None  # its charts are built when it is first shown
    assert isinstance(page.template, pn.template.BootstrapTemplate)


def test_deleting_an_execution_asks_first_then_deletes_it_and_closes_its_detail(fresh):
    page, logs, ids = fresh
    settle(lambda: page.state.param.update(flows=[EVIL_FLOW], execution=ids["evil"]))
    browser_sends(page.groups, {"action": "delete", "flow": EVIL_FLOW, "id": ids["evil"]})
    dialog = page.confirm.view
    assert dialog.open and dialog.title == "Delete this execution?" and dialog.confirm_label == "Delete"
    assert f"The execution of “{EVIL_FLOW}” started" in dialog.message and dialog.detail.endswith(ids["evil"])
    assert logs.queries.execution(ids["evil"]) is not None  # nothing deleted before the answer
    browser_sends(page.confirm, "confirm")
    assert logs.queries.execution(ids["evil"]) is None
    assert (page.state.notice, page.state.notice_kind) == ("Execution deleted.", "success")
    assert page.state.execution == "" and not page.detail.shown
    assert page.tabs.view.counts["all"] == 4 and EVIL_FLOW not in groups(page.groups)


def test_a_running_execution_is_not_offered_for_deletion(fresh):
    page, logs, ids = fresh
    settle(lambda: page.state.toggle_flow(LEAD))
    browser_sends(page.groups, {"action": "delete", "flow": LEAD, "id": ids["running"]})
    assert not page.confirm.view.open and page.state.notice_kind == "error"
    assert page.state.notice.startswith("This execution is still running and cannot be deleted")
    assert logs.queries.execution(ids["running"]) is not None


def test_clear_all_says_how_many_it_deletes_and_keeps_the_running_one(fresh):
    page, logs, ids = fresh
    settle(lambda: setattr(page.header.clear, "clicks", page.header.clear.clicks + 1))
    dialog = page.confirm.view
    assert dialog.open and dialog.confirm_label == "Delete 4 executions"
    assert dialog.message == ("This permanently deletes 4 executions and all their steps from disk. "
                              "1 running execution is kept.")
    revision = page.state.revision
    browser_sends(page.confirm, "confirm")
    assert page.state.notice == "Deleted 4 executions. Running executions were kept."
    assert page.state.revision == revision + 1
    assert page.tabs.view.counts == {"all": 1, "running": 1, "failed": 0, "completed": 0}
    assert groups(page.groups) == [LEAD]
    settle(lambda: setattr(page.header.clear, "clicks", page.header.clear.clicks + 1))
    assert not page.confirm.view.open and page.state.notice.startswith("There is nothing to clear: 1 running")


def test_nothing_to_clear_names_a_single_running_execution_in_the_singular(fresh):
    page, logs, ids = fresh
    logs.store.clear_all()
    settle(lambda: setattr(page.header.clear, "clicks", page.header.clear.clicks + 1))
    assert page.state.notice == "There is nothing to clear: 1 running execution is kept."


def test_the_auto_refresh_shows_new_runs_and_collapses_nothing(fresh, monkeypatch):
    page, logs, ids = fresh
    monkeypatch.setattr(source_module, "MIN_REFRESH_GAP", 0.0)  # the shared token follows the store at once
    monkeypatch.setattr(source_module, "MAX_REFRESH_GAP", 0.0)
    settle(lambda: page.state.param.update(flows=[SUPPORT], execution=ids["support_ok"]))
    settle(lambda: page.state.toggle_step(0))
    body = page.detail.cards.view.bodies[0]
    at = dt.datetime.now(dt.UTC)
    new_id = uuid7_at(at, 9)
    with Writer(Store(logs.store.root), flush_interval=None) as writer:
        writer.write(parsed(started(new_id, at, flow_name=SUPPORT)))
    settle(page.poll)  # the page's periodic look at the change token
    assert page.state.auto_refreshed and page.state.revision == 2
    assert (page.state.flows, page.state.execution, page.state.steps) == ([SUPPORT], ids["support_ok"], [0])
    assert rows(page.groups, SUPPORT)[0] == new_id and page.groups.view.executions[SUPPORT]["total"] == 3
    assert page.tabs.view.counts["running"] == 2
    assert page.detail.cards.view.bodies[0] is body  # the open step was not rebuilt
    settle(page.poll)  # nothing new: no reload
    assert page.state.revision == 2


def test_the_refresh_button_reloads(fresh):
    page, logs, ids = fresh
    settle(lambda: setattr(page.header.refresh, "clicks", page.header.refresh.clicks + 1))
    assert page.state.revision == 2 and not page.state.auto_refreshed
    assert page.tabs.view.counts["all"] == 5


def test_the_quarantine_banner_says_where_unreadable_files_went_until_dismissed(fresh):
    page, logs, ids = fresh
    store = logs.store
    Path(store.files("executions")[0]).write_text("not parquet at all")
    store.read(lambda: store.read_rows("executions", store.files("executions")))  # a reader trips on it
    assert store.quarantined()
    settle(lambda: page.state.refresh(page.source.change_token()))
    banner = page.banner.view
    assert banner.visible and banner.text.startswith("1 unreadable data file was moved aside to ")
    assert f"flowlogs quarantine --data {store.root}" in banner.text
    settle(lambda: banner._handle_msg("dismiss"))
    assert not banner.visible and banner.text == ""
    settle(lambda: page.state.refresh())  # the same file: stays closed
    assert not banner.visible


def test_the_token_page_totals_and_groups_the_ai_steps(fresh):
    page, logs, ids = fresh
    settle(lambda: setattr(page.sidebar, "value", "tokens"))  # the sidebar link
    assert page.state.page == "tokens" and page.tokens is not None
    tokens = page.tokens
    totals = tokens.totals.object
    for key, value in (("total_tokens", "550"), ("prompt_tokens", "450"), ("completion_tokens", "100"),
                       ("ai_steps", "2")):
        assert f'data-total="{key}"><div class="label">' in totals
        assert f'<div class="value">{value}</div>' in totals
    assert tokens.shown.totals["total_tokens"] == 550 and tokens.charts.visible and not tokens.empty.visible
    settle(lambda: setattr(page.state, "by", "flow"))
    table = tokens.table.value
    assert tokens.group.value == "flow"
    assert table["flow_name"].tolist() == [SUPPORT] and table["total_tokens"].tolist() == [550]
    assert table["ai_steps"].tolist() == [2]
    settle(lambda: setattr(page.state, "range", "1h"))  # no AI step in the last hour
    assert tokens.empty.visible and not tokens.charts.visible and tokens.shown.totals["total_tokens"] == 0
    assert "Last hour" in tokens.heading.object


def test_the_token_page_escapes_an_unpriced_model_name(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWLOGS_PRICES", raising=False)
    root = tmp_path / "logs"
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    execution_id = uuid7_at(at, 1)
    model = "<b>homegrown</b>"
    with Writer(Store(root), flush_interval=None) as writer:
        writer.write(parsed(started(execution_id, at)))
        writer.write(parsed(step(execution_id, 0, at, tokens=(10, 5), model=model)))
    logs = open_logs(root)
    page = settle(lambda: ExecutionLogsPage(logs, LogSource(logs.queries), poll_ms=60_000))
    settle(lambda: setattr(page.state, "page", "tokens"))
    totals = page.tokens.totals.object
    assert html.escape(model) in totals and model not in totals
    assert "15 tokens of unpriced models" in totals


def test_a_viewer_session_sees_masked_phones_no_ai_text_and_cannot_delete(shared, monkeypatch):
    monkeypatch.delenv("FLOWLOGS_PRICES", raising=False)
    logs, ids = shared
    session = Session(user="<b>vera</b>", role=Role.VIEWER, privacy=Privacy(mask_phones=True, hide_ai_text=True),
                      signed_in=True)
    page = settle(lambda: ExecutionLogsPage(logs, LogSource(logs.queries), poll_ms=60_000, session=session))
    assert not page.header.clear.visible and page.header.user.visible
    assert "&lt;b&gt;vera&lt;/b&gt;" in page.header.user.object and "<b>vera" not in page.header.user.object
    assert page.state.search_ai_replies is False
    settle(lambda: page.state.param.update(flows=[SUPPORT], execution=ids["support_ok"]))
    row = page.groups.view.executions[SUPPORT]["rows"][1]
    assert row["id"] == ids["support_ok"] and row["phone"] != "+4915112345678" and row["phone"].endswith("678")
    assert page.groups.view.executions[SUPPORT]["can_delete"] is False
    assert page.detail.summary.execution["phone"] == row["phone"]
    settle(lambda: page.state.toggle_step(0))  # the AI step
    details = page.detail.cards.view.bodies[0].objects[0].object
    assert "Your order ships tomorrow." not in details and "You are a helpful support agent." not in details
    settle(lambda: page.state.param.update(search="ships tomorrow"))  # words of the hidden reply find nothing
    assert groups(page.groups) == []
    # a delete message forged past the missing trash icon is refused and said so
    settle(lambda: page.state.param.update(search=""))
    browser_sends(page.groups, {"action": "delete", "flow": SUPPORT, "id": ids["support_ok"]})
    assert not page.confirm.view.open and page.state.notice_kind == "error"
    assert page.state.notice == ("You are signed in as <b>vera</b> (viewer): only admins may delete execution logs.")
    assert logs.queries.execution(ids["support_ok"]) is not None


def test_an_admin_search_finds_the_words_of_ai_replies(state, source):
    flows = FlowGroupList(state, source, on_delete=lambda row: None)
    settle(lambda: setattr(state, "search", "ships tomorrow"))  # both AI steps replied so
    assert groups(flows) == [SUPPORT] and flows.view.groups[0]["runs"] == 2


def test_what_the_components_send_serializes_and_carries_log_text_as_json_strings(fresh):
    from bokeh.document import Document
    from bokeh.embed.util import standalone_docs_json

    page, logs, ids = fresh
    settle(lambda: page.state.param.update(flows=[SUPPORT, EVIL_FLOW], execution=ids["support_ok"]))
    settle(lambda: page.state.toggle_step(1))
    document = Document()
    for viewer in (page.tabs, page.groups, page.detail, page.failure_causes, page.notice, page.confirm):
        document.add_root(viewer.__panel__().get_root(document))
    sent = json.loads(json.dumps(standalone_docs_json([document])))  # what the browser would receive

    def values(node):
        if isinstance(node, dict):
            # Bokeh sends a dict as {"type": "map", "entries": [[key, value], ...]}
            pairs = node["entries"] if node.get("type") == "map" and "entries" in node else node.items()
            for key, value in pairs:
                yield key, value
                yield from values(value)
        elif isinstance(node, list):
            for item in node:
                yield from values(item)

    found = list(values(sent))
    assert ("flow_name", EVIL_FLOW) in found  # a group header's data: drawn with textContent
    assert ("node_name", EVIL_NODE) in found  # a step header's data
    assert ("id", ids["support_ok"]) in found
    # where log text goes into HTML (the open step's details) it arrives escaped: Panel's HTML model sends
    # its markup escaped once more, and the browser unescapes that once before drawing it as HTML
    markup = [html.unescape(v) for k, v in found if k == "text" and isinstance(v, str) and "dl class" in v]
    assert markup and all(esc(EVIL_NODE) in m and EVIL_NODE not in m for m in markup)
