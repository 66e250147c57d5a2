"""Failures of the selected range grouped by cause: a count, a trend sparkline, a click-through.

A click on a cause narrows the page to the failed executions of that cause (the Failed tab,
`state.cause`, in the URL); a second click, or "Show all", widens it again. The counts come
from `LogQueries.failure_causes`, which counts the same rows `failures()` lists.
"""

from __future__ import annotations

import datetime as dt

import panel as pn
import param
from panel.custom import JSComponent

from ..schema import FAILURE_CAUSE_LABELS, FailureCause, Tab
from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import BASE_CSS, JS_HELPERS, asset

MAX_POINTS = 48  # sparkline points: enough for a trend, few enough to read


class FailureCausesElement(JSComponent):
    """One card per cause; `causes` is [{key, label, count, series}], `active` the chosen key."""

    causes = param.List(default=[], doc="One dict per cause: key, label, count, series.")
    active = param.String(default="", doc="The cause the list is narrowed to ('' for none).")
    loaded = param.Boolean(default=False, doc="Whether causes were loaded (else: loading).")
    bucket = param.String(default="day", doc="The sparklines' bucket: hour or day.")

    _esm = JS_HELPERS + asset("failure_causes.js")

    _stylesheets = [BASE_CSS + asset("failure_causes.css")]

    def __init__(self, on_message, **params):
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict):
            self._on_message(msg)


def bucket_for(since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime) -> str:
    """Hours for a range of two days or less, days otherwise."""
    if since is None:
        return "day"
    return "hour" if (until or now) - since <= dt.timedelta(days=2) else "day"


def series_by_cause(rows: list[dict], bucket: str, since, until, now: dt.datetime) -> dict[str, list[int]]:
    """Each cause's failures per bucket from the range's start (or its first failure) to its end, zeros
    included. Each row's bucket is floored once for all causes: every session redraws these at each
    refresh, on the server's one event loop."""
    step = dt.timedelta(hours=1) if bucket == "hour" else dt.timedelta(days=1)

    def floor(ts: dt.datetime) -> dt.datetime:
        ts = ts.astimezone(dt.UTC)
        return ts.replace(minute=0, second=0, microsecond=0) if bucket == "hour" else \
            ts.replace(hour=0, minute=0, second=0, microsecond=0)

    counts: dict[str, dict[dt.datetime, int]] = {}
    for row in rows:
        counts.setdefault(row["cause"], {})[floor(row["bucket"])] = row["failures"]
    firsts = [at for per_cause in counts.values() for at in per_cause]
    start = floor(since) if since is not None else min(firsts, default=floor(now))
    end = floor(min(until, now) if until is not None else now)
    buckets = []
    at = max(start, end - step * (MAX_POINTS - 1))
    while at <= end:
        buckets.append(at)
        at += step
    return {cause.value: [int(counts.get(cause.value, {}).get(at, 0)) for at in buckets] or [0]
            for cause in FailureCause}


class FailureCausesPanel(pn.viewable.Viewer):
    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.view = FailureCausesElement(self._clicked, active=state.cause, sizing_mode="stretch_width", margin=0,
                                      css_classes=["failure-causes"])
        self.loader = Loader(self._load, self._show, on_shown=source.shown, spinner=self.view,
                             on_error=lambda exc: state.tell(f"Could not count the failures: {exc}", "error"))
        state.reload_on_revision(self.loader)
        state.param.watch(lambda *_: self.loader.request(spin=True), [p for p in SCOPE_PARAMETERS if p != "cause"])
        state.param.watch(lambda e: setattr(self.view, "active", e.new), "cause")

    async def _load(self):
        scope = self.state.scope()
        now = dt.datetime.now(dt.UTC)
        bucket = bucket_for(scope.since, scope.until, now)
        return scope, bucket, now, await self.source.failure_causes(scope, bucket)

    def _show(self, result) -> None:
        scope, bucket, now, rows = result
        totals: dict[str, int] = {}
        for row in rows:
            totals[row["cause"]] = totals.get(row["cause"], 0) + int(row["failures"])
        series = series_by_cause(rows, bucket, scope.since, scope.until, now)
        causes = [{"key": cause.value, "label": FAILURE_CAUSE_LABELS[cause], "count": totals.get(cause.value, 0),
                   "series": series[cause.value]} for cause in FailureCause]
        self.view.param.update(causes=causes, bucket=bucket, loaded=True)

    def _clicked(self, msg: dict) -> None:
        cause = str(msg.get("cause") or "")
        if cause and cause not in {c.value for c in FailureCause}:
            return
        if cause:
            self.state.param.update(cause=cause, tab=Tab.FAILED.value)
        else:
            self.state.cause = ""

    def __panel__(self):
        return self.view
