"""Compare with the last success: what a failed execution did differently, step by step.

Shown in the detail panel for failed and completed-with-errors executions. On top: the
successful execution it is compared with (a link opens it), how many steps differ, a changed
trigger phone; then the step that failed (its error, the input fields it lacks or has
changed, first); then the other steps that differed, in the order they ran, the first
difference marked: ran in one execution only, a status change, the input fields that changed
by JSON path with old -> new values, a notably different duration, and (muted) the output
fields that changed. Everything is drawn with
textContent: values from the logs are shown, never interpreted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
import panel as pn
import param
from panel.custom import JSComponent

from ..compare import MISSING, Comparison, FieldChange, StepDiff, can_compare, compare
from ..json_values import UnreadableJson
from .format import epoch_ms, plain
from .loader import Loader
from .source import LogSource
from .theme import BASE_CSS, JS_HELPERS, asset

MAX_STEPS_SHOWN = 60  # a 200-row loop where every row differs: the first 60, and how many more
VALUE_CHARS = 240


def value_text(value) -> str | None:
    """A JSON value as the user reads it (JSON text, shortened); None for a missing field."""
    if value is MISSING:
        return None
    # stored text that did not read back as JSON (too deep, a number out of range) is shown as it was stored
    text = str(value) if isinstance(value, UnreadableJson) else msgspec.json.encode(value).decode()
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def _change(change: FieldChange) -> dict:
    return {"path": change.path, "kind": change.kind, "before": value_text(change.before),
            "after": value_text(change.after)}


def _step(diff: StepDiff, first: bool, failing: bool) -> dict:
    duration_failed, duration_success = diff.duration_ms
    step = diff.failed or diff.success
    return {
        "presence": diff.presence,
        "index": int(step["index"]),
        "node_id": diff.node_id,
        "name": diff.node_name,
        "type": diff.node_type,
        "occurrence": diff.occurrence,
        "status": diff.failed["status"] if diff.failed else None,
        "success_status": diff.success["status"] if diff.success else None,
        "status_changed": diff.status_changed,
        "error": diff.error,
        "inputs": [_change(c) for c in diff.input_changes],
        "more_inputs": diff.more_input_changes,
        "outputs": [_change(c) for c in diff.output_changes],
        "more_outputs": diff.more_output_changes,
        "duration": duration_failed,
        "success_duration": duration_success,
        "duration_change": diff.duration_change,
        "significant": diff.significant,
        "first": first,
        "failing": failing,
    }


def comparison_item(comparison: Comparison) -> dict:
    """A Comparison as the view draws it: plain JSON-friendly values only.

    The failing step is set apart (`failing`): it is where the error is, and in a flow started
    by a different customer each time every step differs somewhat, so it goes on top. `steps`
    are the other steps that differ, in the order they ran.
    """
    first, failing = comparison.first_difference, comparison.failing_step
    differing = comparison.differing
    others = [d for d in differing if d is not failing]
    baseline = comparison.baseline
    return {
        "baseline": {"id": str(baseline["execution_id"]), "started": epoch_ms(baseline["started_at"]),
                     "status": str(baseline["status"]), "duration": plain(baseline.get("duration_ms"))},
        "execution_changes": [_change(c) for c in comparison.execution_changes],
        "failing": _step(failing, failing is first, True) if failing is not None else None,
        "steps": [_step(d, d is first, False) for d in others[:MAX_STEPS_SHOWN]],
        "more_steps": max(0, len(others) - MAX_STEPS_SHOWN),
        "differing_steps": len(differing),
        "same_steps": len(comparison.steps) - len(differing),
        "total_steps": len(comparison.steps),
    }


def comparison_for(source: LogSource, record: dict) -> dict | None:
    """The comparison of a failed execution with its flow's last success (None: there is none).

    Runs in a worker thread: two queries, the list of the flow's earlier completed runs and
    the baseline's record (through the source's cache, shared by sessions until the data changes).
    """
    found = source.last_success_id(record)
    if found is None:
        return None
    # the record through the source: a viewer's source redacts what it returns
    baseline = source.execution_now(found)
    return None if baseline is None else comparison_item(compare(record, baseline))


class ComparisonElement(JSComponent):
    comparison = param.Dict(default=None, allow_None=True, doc="The comparison as drawn (see comparison_payload).")
    message = param.String(default="", doc="Shown instead of a comparison (loading, no success to compare with).")

    _esm = JS_HELPERS + asset("compare_panel.js")

    _stylesheets = [BASE_CSS + asset("compare_panel.css")]

    def __init__(self, on_open: Callable[[str], None], **params):
        super().__init__(**params)
        self._on_open = on_open

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict) and msg.get("action") == "open" and msg.get("id"):
            self._on_open(str(msg["id"]))


class ComparePanel(pn.viewable.Viewer):
    """Loads and shows the comparison of the open execution; recomputed only when its record changed."""

    def __init__(self, source: LogSource, on_open: Callable[[str], None], **params):
        super().__init__(**params)
        self.source = source
        self.view = ComparisonElement(on_open, message="Loading…", sizing_mode="stretch_width", margin=0,
                                   css_classes=["comparison"])
        self.record: dict | None = None  # the record last asked for
        self.shown: dict | None = None  # the record whose comparison is shown
        self.loader = Loader(self._load, self._apply, on_shown=source.shown, spinner=self.view,
                             on_error=lambda exc: self.view.param.update(comparison=None,
                                                                         message=f"Could not compare: {exc}"))

    def show(self, record: dict | None) -> None:
        """Compare this execution (a record of LogQueries.execution) unless it is already shown."""
        self.record = record
        if record is None:
            self.clear()
            return
        if not can_compare(record):
            self.shown = None
            self.view.param.update(comparison=None, message="Only failed executions are compared with a success.")
            return
        if record == self.shown:
            return
        if self.shown is None or self.shown["execution_id"] != record["execution_id"]:
            self.view.param.update(comparison=None, message="Looking for the last successful run…")
        self.loader.request(spin=self.shown is None)

    def clear(self) -> None:
        self.record = self.shown = None
        self.view.param.update(comparison=None, message="Loading…")

    async def _load(self):
        record = self.record
        if record is None or not can_compare(record):
            return record, None
        return record, await asyncio.to_thread(comparison_for, self.source, record)

    def _apply(self, result) -> None:
        record, item = result
        if record is not self.record or record is None or not can_compare(record):
            return  # another execution was opened meanwhile
        self.shown = record
        if item is None:
            self.view.param.update(comparison=None, message=(
                f"No earlier successful run of “{record['flow_name']}” to compare with: every kept run before "
                "this one failed, was cancelled, or there is none."))
        else:
            self.view.param.update(comparison=item, message="")

    def __panel__(self):
        return self.view
