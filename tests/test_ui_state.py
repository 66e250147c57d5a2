"""LogsState (dashboard/ui/state.py), the one source of truth of the Execution Logs page, in-process:
its parameters and their checks, the Scope it derives (ranges, custom bounds, search, cause), how
`revision` moves without touching what the user opened, and its mirroring in the URL by the page
(a Panel Location, the page's own `URL_PARAMETERS` and `_url_error`), with no server or browser."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import panel as pn
import pytest
from panel.io.location import Location
from ui_inproc import SUPPORT, settle, write_store

from dashboard.logs import open_logs
from dashboard.ui.page import URL_PARAMETERS, ExecutionLogsPage
from dashboard.ui.source import LogSource
from dashboard.ui.state import PAGE_SIZE, RANGES, LogsState, Scope

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 9, 30, 45, 500_000, tzinfo=UTC)


# -- parameters -------------------------------------------------------------------------------


def test_a_new_state_shows_everything_with_nothing_open():
    state = LogsState()
    assert (state.tab, state.flows, state.execution, state.steps, state.pages) == ("all", [], "", [], {})
    assert (state.page, state.by, state.range, state.since, state.until) == ("logs", "day", "all", "", "")
    assert (state.search, state.cause, state.view) == ("", "", "steps")
    assert state.search_ai_replies is True and state.auto_refreshed is False
    assert (state.change_token, state.revision) == ("", 0)
    assert (state.notice, state.notice_kind) == ("", "info")
    assert state.page_size == PAGE_SIZE == 25
    assert state.bounds() == (None, None)
    assert state.scope() == Scope() == Scope(None, None, "", "", True)


def test_the_choices_are_the_tabs_ranges_pages_views_and_groupings():
    objects = {name: LogsState.param[name].objects for name in ("tab", "range", "page", "view", "by", "notice_kind")}
    assert objects == {"tab": ["all", "running", "failed", "completed"], "range": list(RANGES),
                       "page": ["logs", "tokens"],
                       "view": ["steps", "timeline", "compare"], "by": ["day", "flow", "node", "model"],
                       "notice_kind": ["info", "success", "error"]}
    assert list(RANGES) == ["1h", "24h", "7d", "30d", "all", "custom"]


@pytest.mark.parametrize("name, value", [
    ("tab", "bogus"), ("tab", "All"), ("range", "2d"), ("page", "admin"), ("view", "html"), ("by", "user"),
    ("notice_kind", "warning"), ("flows", ["A", 1]), ("flows", "A"), ("steps", ["1"]), ("pages", []),
    ("revision", "1"), ("execution", 123),
])
def test_a_value_outside_a_parameters_choices_is_refused_and_the_old_one_kept(name, value):
    state = LogsState()
    before = getattr(state, name)
    with pytest.raises((ValueError, TypeError)):  # param raises TypeError for a list item of another type
        setattr(state, name, value)
    assert getattr(state, name) == before
    with pytest.raises((ValueError, TypeError)):
        LogsState(**{name: value})


def test_page_size_and_the_ai_reply_search_are_fixed_when_the_state_is_made():
    state = LogsState(page_size=10, search_ai_replies=False)
    assert (state.page_size, state.search_ai_replies) == (10, False)
    with pytest.raises(TypeError):  # constant: a viewer cannot switch AI replies back into the search
        state.search_ai_replies = True
    with pytest.raises(TypeError):
        state.page_size = 50
    for size in (0, 501):
        with pytest.raises(ValueError):
            LogsState(page_size=size)


# -- the scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset, reach", [("1h", dt.timedelta(hours=1)), ("24h", dt.timedelta(hours=24)),
                                           ("7d", dt.timedelta(days=7)), ("30d", dt.timedelta(days=30))])
def test_a_preset_reaches_back_from_now_rounded_down_to_the_minute(preset, reach):
    state = LogsState(range=preset)
    assert state.bounds(NOW) == (dt.datetime(2026, 11, 20, 9, 30, tzinfo=UTC) - reach, None)
    # two sessions within the same minute get the same bounds, so they share cached queries
    assert state.bounds(NOW.replace(second=59)) == state.bounds(NOW.replace(second=0))
    assert state.bounds(NOW + dt.timedelta(minutes=1)) != state.bounds(NOW)


def test_the_scope_of_a_preset_follows_the_clock():
    state = LogsState(range="24h")
    before = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    since, until = state.scope()[:2]
    after = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    assert until is None and before - dt.timedelta(hours=24) <= since <= after - dt.timedelta(hours=24)


def test_all_kept_and_custom_without_bounds_are_open_on_both_sides():
    assert LogsState(range="all").bounds(NOW) == (None, None)
    assert LogsState(range="custom").bounds(NOW) == (None, None)


def test_custom_bounds_only_count_while_the_range_is_custom():
    state = LogsState(range="7d", since="2026-11-01", until="2026-11-02")
    assert state.bounds(NOW) == (NOW.replace(day=13, hour=9, minute=30, second=0, microsecond=0), None)
    state.range = "custom"
    assert state.bounds(NOW) == (dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 11, 3, tzinfo=UTC))


@pytest.mark.parametrize("since, until, expected", [
    # a date: from its start; as the end, up to the start of the next day (it covers its whole day)
    ("2026-11-01", "2026-11-01", (dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 11, 2, tzinfo=UTC))),
    # a time without a zone is UTC; one with a zone is kept as given
    ("2026-11-01T08:00", "2026-11-01T17:30:15Z",
     (dt.datetime(2026, 11, 1, 8, tzinfo=UTC), dt.datetime(2026, 11, 1, 17, 30, 15, tzinfo=UTC))),
    ("2026-11-01T10:00+02:00", "", (dt.datetime(2026, 11, 1, 8, tzinfo=UTC), None)),
    ("  2026-11-01  ", "", (dt.datetime(2026, 11, 1, tzinfo=UTC), None)),  # spaces around are ignored
    ("", "2026-12-31", (None, dt.datetime(2027, 1, 1, tzinfo=UTC))),
    # a bound that cannot be read leaves its side open (the range picker says why), the other side holds
    ("yesterday", "2026-11-02", (None, dt.datetime(2026, 11, 3, tzinfo=UTC))),
    ("2026-11-01", "2026-13-01", (dt.datetime(2026, 11, 1, tzinfo=UTC), None)),
    ("2026-11-01 08:00 and more", "", (None, None)),
])
def test_custom_bounds(since, until, expected):
    bounds = LogsState(range="custom", since=since, until=until).bounds(NOW)
    assert bounds == expected


def test_the_scope_strips_the_search_and_keeps_only_a_known_cause():
    state = LogsState(search="  +49 151 1234  ", cause="invalid_phone")
    assert state.failure_cause == "invalid_phone"
    assert state.scope() == Scope(None, None, "+49 151 1234", "invalid_phone", True)
    state.cause = "drop table"  # a hand-edited link: the list is not narrowed by it
    assert state.failure_cause is None and state.scope().cause == ""
    state.search = "   "
    assert state.scope().search == ""


def test_query_args_carry_the_search_with_or_without_ai_replies():
    assert Scope().query_args() == {"since": None, "until": None, "search": None, "cause": None}
    since = dt.datetime(2026, 11, 1, tzinfo=UTC)
    args = LogsState(range="custom", since="2026-11-01", search="refund", cause="ai_provider",
                     search_ai_replies=False).scope().query_args()
    search = args.pop("search")
    assert args == {"since": since, "until": None, "cause": "ai_provider"}
    assert (str(search), search.text, search.ai_replies) == ("refund", "refund", False)
    assert LogsState(search="refund").scope().query_args()["search"].ai_replies is True


def test_scopes_key_the_shared_cache():
    a = LogsState(search="x", cause="other").scope()
    b = LogsState(search=" x ", cause="other").scope()
    assert a == b and hash(a) == hash(b) and len({a, b, Scope()}) == 2


# -- what changes with what ---------------------------------------------------------------------


def test_a_refresh_moves_the_revision_and_nothing_the_user_opened():
    state = LogsState(tab="failed", flows=["A", "B"], execution="e-1", steps=[2], pages={"A": 3}, search="x",
                      change_token="t0")
    opened = {name: getattr(state, name) for name in ("tab", "flows", "execution", "steps", "pages", "search")}
    state.refresh("t1")
    assert (state.revision, state.change_token, state.auto_refreshed) == (1, "t1", False)
    state.refresh()  # a Refresh click that found the same data: the token stays, the revision moves
    assert (state.revision, state.change_token) == (2, "t1")
    state.refresh("t2", auto=True)
    assert (state.revision, state.change_token, state.auto_refreshed) == (3, "t2", True)
    assert {name: getattr(state, name) for name in opened} == opened


def test_revision_watchers_read_whether_only_the_auto_refresh_asked():
    state = LogsState()
    seen = []
    state.param.watch(lambda e: seen.append((e.new, state.auto_refreshed)), "revision")
    state.refresh("a", auto=True)
    state.refresh("b")
    state.refresh("c", auto=True)
    assert seen == [(1, True), (2, False), (3, True)]


def test_reload_on_revision_asks_the_loader_again_saying_who_asked():
    class Requests:
        def __init__(self):
            self.asked = []

        def request(self, *, auto=False, spin=False):
            self.asked.append(auto)

    state, loader = LogsState(), Requests()
    watcher = state.reload_on_revision(loader)
    state.refresh(auto=True)
    state.refresh()
    state.tab = "failed"  # not a revision: components watch the tab themselves
    assert loader.asked == [True, False]
    state.param.unwatch(watcher)
    state.refresh()
    assert loader.asked == [True, False]


@pytest.mark.parametrize("name, value", [("tab", "failed"), ("range", "24h"), ("since", "2026-11-01"),
                                         ("until", "2026-11-02"), ("search", "x"), ("cause", "other")])
def test_narrowing_the_list_sends_every_group_back_to_its_first_page(name, value):
    state = LogsState(pages={"A": 2, "B": 1})
    setattr(state, name, value)
    assert state.pages == {}


def test_opening_refreshing_or_expanding_keeps_the_pages():
    state = LogsState(pages={"A": 2})
    state.execution = "e-1"
    state.refresh("t")
    state.toggle_flow("B")
    state.view = "timeline"
    assert state.pages == {"A": 2}


def test_opening_another_execution_collapses_its_steps_a_refresh_does_not():
    state = LogsState(execution="e-1")
    state.toggle_step(3)
    state.toggle_step(1)
    assert state.steps == [3, 1]
    state.refresh("t")
    assert state.steps == [3, 1]
    state.toggle_step(3)
    assert state.steps == [1]
    state.open_execution("e-2")
    assert (state.execution, state.steps) == ("e-2", [])
    state.steps = [0]
    state.open_execution(None)
    assert (state.execution, state.steps) == ("", [])


def test_toggling_flows_keeps_the_order_they_were_opened_in():
    state = LogsState()
    for flow in ("B", "A", "C", "A"):
        state.toggle_flow(flow)
    assert state.flows == ["B", "C"]


def test_pages_are_per_flow_never_negative_and_start_at_the_first():
    state = LogsState()
    assert state.page_of("A") == 0
    state.set_page("A", 2)
    state.set_page("B", -4)
    state.set_page("C", "3")  # a page from the browser's message
    assert state.pages == {"A": 2, "B": 0, "C": 3}
    assert (state.page_of("A"), state.page_of("B"), state.page_of("C")) == (2, 0, 3)


def test_telling_the_same_message_again_shows_it_again():
    state = LogsState()
    events = []
    state.param.watch(lambda *batch: events.extend((e.name, e.new) for e in batch), ["notice", "notice_kind"])
    state.tell("Execution deleted.", "success")
    state.tell("Execution deleted.", "success")
    assert events == [("notice", "Execution deleted."), ("notice_kind", "success"), ("notice", "Execution deleted.")]
    state.tell("Execution deleted.")  # the same text, another kind: shown as that kind
    assert (state.notice, state.notice_kind) == ("Execution deleted.", "info")


# -- the URL ------------------------------------------------------------------------------------


def test_the_url_carries_what_makes_a_view_and_nothing_of_the_session():
    assert set(URL_PARAMETERS) == {"page", "tab", "range", "since", "until", "search", "cause", "flows",
                                   "execution", "view", "by"}
    assert not set(URL_PARAMETERS) & {"revision", "change_token", "notice", "steps", "pages", "search_ai_replies"}
    assert all(name in LogsState.param for name in URL_PARAMETERS)


def query(location: Location) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(location.search.lstrip("?")))


def test_a_state_synced_with_a_location_writes_every_change_to_the_query_and_reads_a_link_back():
    location = Location(search="?tab=failed&flows=%5B%22Order+reminder%22%5D&range=7d&search=refund")
    state = LogsState()
    location.sync(state, URL_PARAMETERS)
    assert (state.tab, state.flows, state.range, state.search) == ("failed", ["Order reminder"], "7d", "refund")
    state.param.update(execution="e-1", cause="ai_provider")
    state.toggle_flow("Daily broadcast")
    state.refresh("t")  # not in the URL
    written = query(location)
    assert written["tab"] == "failed" and written["execution"] == "e-1" and written["cause"] == "ai_provider"
    assert json.loads(written["flows"]) == ["Order reminder", "Daily broadcast"]
    assert "revision" not in written and "change_token" not in written
    reopened = LogsState()
    Location(search=location.search).sync(reopened, URL_PARAMETERS)
    assert {n: getattr(reopened, n) for n in URL_PARAMETERS} == {n: getattr(state, n) for n in URL_PARAMETERS}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-state") / "logs"
    ids = write_store(root)
    return open_logs(root), ids


def open_page(logs, monkeypatch, search: str) -> tuple[ExecutionLogsPage, Location]:
    """The real page of one session, opened at a link: Panel's location outside a server is its global one."""
    location = Location(search=search)
    monkeypatch.setattr(pn.state, "_location", location)
    monkeypatch.delenv("FLOWLOGS_PRICES", raising=False)
    page = settle(lambda: ExecutionLogsPage(logs, LogSource(logs.queries), poll_ms=60_000))
    return page, location


def test_a_shared_link_reopens_the_same_view_and_the_page_keeps_the_url_current(logs, monkeypatch):
    logs, ids = logs
    flows = urllib.parse.quote(json.dumps([SUPPORT]))
    page, location = open_page(logs, monkeypatch,
                               f"?tab=failed&flows={flows}&execution={ids['support_failed']}&view=timeline")
    state = page.state
    assert (state.tab, state.flows, state.execution, state.view) == ("failed", [SUPPORT], ids["support_failed"],
                                                                     "timeline")
    assert state.revision == 1  # the page loaded once the "browser" had it
    # what the link opened is drawn: the expanded flow's failed run, and the detail of the execution
    assert [r["id"] for r in page.groups.view.executions[SUPPORT]["rows"]] == [ids["support_failed"]]
    assert page.detail.shown and page.detail.summary.execution["id"] == ids["support_failed"]
    settle(lambda: state.param.update(tab="all", execution=""))
    assert query(location)["tab"] == "all" and "execution" not in query(location)  # closed: gone from the link


def test_a_link_with_numbers_or_a_bare_flow_name_keeps_them_as_text(logs, monkeypatch):
    # Panel reads `?execution=123` and `?search=4915...` as numbers and `?flows=Name` as a name, not a list
    page, _ = open_page(logs[0], monkeypatch, "?execution=123&search=4915112345678&flows=Support"
                        "%20auto-reply&tab=running")
    state = page.state
    assert (state.execution, state.search, state.flows, state.tab) == ("123", "4915112345678", [SUPPORT], "running")


def test_a_link_with_a_bad_tab_or_range_keeps_the_defaults_and_every_other_value(logs, monkeypatch):
    logs, ids = logs
    page, _ = open_page(logs, monkeypatch, f"?tab=bogus&range=2d&execution={ids['broadcast']}&view=timeline")
    state = page.state
    assert (state.tab, state.range) == ("all", "all")
    assert (state.execution, state.view) == (ids["broadcast"], "timeline")


def test_a_link_to_the_token_page_opens_it_grouped_and_ranged_as_linked(logs, monkeypatch):
    page, _ = open_page(logs[0], monkeypatch, "?page=tokens&by=flow&range=custom&since=2020-01-01")
    assert page.tokens is not None and page.tokens.group.value == "flow" and page.sidebar.value == "tokens"
    assert page.tokens.table.value["flow_name"].tolist() == [SUPPORT]  # the only flow with AI steps
    assert "from 2020-01-01" in page.tokens.heading.object


def test_a_link_cannot_set_what_is_not_in_the_url():
    # the page syncs only these; a link naming another parameter (`?revision=9&page_size=1`) is ignored
    location = Location(search="?revision=9&page_size=1&notice=hi&tab=completed")
    state = LogsState()
    location.sync(state, URL_PARAMETERS)
    assert (state.revision, state.page_size, state.notice, state.tab) == (0, PAGE_SIZE, "", "completed")


def test_a_link_with_a_number_in_the_flows_list_keeps_every_other_value(logs, monkeypatch):
    logs, ids = logs
    page, _ = open_page(logs, monkeypatch, f"?flows=%5B1%5D&execution={ids['broadcast']}&tab=completed")
    assert (page.state.flows, page.state.execution, page.state.tab) == ([], ids["broadcast"], "completed")


def test_the_last_date_there_is_as_until_leaves_the_range_open_at_its_end():
    assert LogsState(range="custom", since="2026-11-01", until="9999-12-31").bounds(NOW) == (
        dt.datetime(2026, 11, 1, tzinfo=UTC), None)


def test_a_link_with_the_last_date_there_is_still_opens_the_page(logs, monkeypatch):
    page, _ = open_page(logs[0], monkeypatch, "?range=custom&until=9999-12-31&tab=failed")
    assert (page.state.range, page.state.until, page.state.tab) == ("custom", "9999-12-31", "failed")
