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
from .theme import BASE_CSS, JS_HELPERS

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


class ComparisonView(JSComponent):
    comparison = param.Dict(default=None, allow_None=True, doc="The comparison as drawn (see comparison_payload).")
    message = param.String(default="", doc="Shown instead of a comparison (loading, no success to compare with).")

    _esm = JS_HELPERS + """
export function render({ model, el }) {
  const box = h("div", "compare");

  function value(text, kind) {
    if (text === null || text === undefined) return h("span", "value missing", "missing");
    return h("span", "value mono " + kind, text);
  }

  function changes(list, more, title, cls, what) {
    const wrap = h("div", "changes " + cls);
    wrap.append(h("div", "section-title", title));
    const table = h("div", "change-list");
    for (const c of list) {
      const row = h("div", "change " + c.kind);
      row.setAttribute("data-path", c.path);
      row.append(h("span", "path mono", c.path === "(value)" ? "(the whole " + what + ")" : c.path));
      const vals = h("span", "values");
      vals.append(value(c.before, "before"), h("span", "arrow", "→"), value(c.after, "after"));
      row.append(vals);
      table.append(row);
    }
    wrap.append(table);
    if (more) wrap.append(h("div", "muted more", "… and " + fmtNumber(more) + " more"));
    return wrap;
  }

  function stepCard(s) {
    const card = h("div", "diff-step " + s.presence + (s.first ? " first" : "") + (s.failing ? " failing" : "") +
                   (s.significant ? "" : " minor"));
    card.setAttribute("data-node-id", s.node_id);
    card.setAttribute("data-step", String(s.index));
    card.setAttribute("data-presence", s.presence);
    const head = h("div", "diff-head");
    head.append(h("span", "index", String(s.index + 1)));
    const names = h("span", "names");
    names.append(h("span", "node-name", s.name), h("span", "node-type", typeLabel(s.type) +
                 (s.occurrence ? " · run " + (s.occurrence + 1) + " of this node" : "")));
    head.append(names);
    if (s.first) head.append(h("span", "badge first-badge", "first difference"));
    if (s.presence === "failed_only") head.append(h("span", "badge only", "only in this run"));
    if (s.presence === "success_only") head.append(h("span", "badge only", "only in the successful run"));
    if (s.status_changed) {
      const st = h("span", "status-change");
      st.append(chip(s.success_status), h("span", "arrow", "→"), chip(s.status));
      head.append(st);
    } else if (s.status) head.append(chip(s.status));
    else if (s.success_status) head.append(chip(s.success_status));
    card.append(head);

    const body = h("div", "diff-body");
    if (s.error) {
      body.append(h("div", "section-title", "Error"));
      body.append(h("pre", "error", s.error));
    }
    if (s.inputs.length) body.append(changes(s.inputs, s.more_inputs, "Input fields that differ", "input", "input"));
    if (s.duration_change || (s.presence === "both" && s.significant)) {
      const d = h("div", "duration-line" + (s.duration_change ? " " + s.duration_change : ""));
      d.append(h("span", "label", "Duration "), h("span", "mono", fmtDuration(s.duration)),
               h("span", "muted", " vs " + fmtDuration(s.success_duration) + " in the successful run"));
      if (s.duration_change) d.append(h("span", "badge " + s.duration_change, s.duration_change));
      body.append(d);
    }
    if (s.outputs.length) {
      body.append(changes(s.outputs, s.more_outputs, "Output fields that differ", "output", "output"));
    }
    if (s.presence !== "both") {
      const dur = s.presence === "failed_only" ? s.duration : s.success_duration;
      body.append(h("div", "muted duration-line", "Duration " + fmtDuration(dur)));
    }
    if (body.childNodes.length) card.append(body);
    return card;
  }

  function draw() {
    box.replaceChildren();
    const c = model.comparison;
    if (!c) {
      box.append(h("div", "message muted", model.message));
      return;
    }
    const base = h("div", "baseline");
    base.append(h("div", "section-title", "Compared with the last successful run"));
    const line = h("div", "baseline-line");
    const link = h("a", "baseline-link mono", c.baseline.id);
    link.href = "?execution=" + encodeURIComponent(c.baseline.id) + "&view=steps";
    link.title = "Open the successful execution";
    link.addEventListener("click", (ev) => {
      ev.preventDefault();
      model.send_msg({action: "open", id: c.baseline.id});
    });
    line.append(link);
    const when = h("span", "muted", " · started " + fmtTime(c.baseline.started) + " · took " +
                   fmtDuration(c.baseline.duration));
    line.append(when);
    base.append(line);
    box.append(base);

    const summary = h("div", "summary-line");
    const differing = c.differing_steps;
    if (!differing && !c.execution_changes.length) {
      summary.textContent = "No step differs from the successful run.";
    } else {
      summary.textContent = fmtNumber(differing) + " of " + fmtNumber(c.total_steps) + " steps differ" +
                            (c.same_steps ? ", " + fmtNumber(c.same_steps) + " ran the same" : "") + ".";
    }
    box.append(summary);
    if (c.execution_changes.length) box.append(changes(c.execution_changes, 0, "Trigger", "trigger", "trigger"));
    if (c.failing) {
      box.append(h("div", "section-title group-title", "Where it failed"));
      box.append(stepCard(c.failing));
    }
    if (c.steps.length) {
      box.append(h("div", "section-title group-title", c.failing ? "Other steps that differ, in the order they ran"
                                                                  : "Steps that differ, in the order they ran"));
      const list = h("div", "diff-steps");
      for (const s of c.steps) list.append(stepCard(s));
      box.append(list);
    }
    if (c.more_steps) box.append(h("div", "muted more", "… and " + fmtNumber(c.more_steps) + " more steps differ"));
  }
  model.on(["comparison", "message"], draw);
  draw();
  el.append(box);
}
"""

    _stylesheets = [BASE_CSS + """
:host { width: 100%; }
.compare { padding: 6px 18px 16px; font-size: 13px; }
.message { padding: 12px 0; font-size: 14px; }
.section-title { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em;
                 color: #475569; margin: 10px 0 5px; }
.baseline-line { overflow-wrap: anywhere; }
.baseline-link { color: var(--accent); text-decoration: none; font-size: 12px; }
.baseline-link:hover { text-decoration: underline; }
.summary-line { margin: 10px 0 8px; font-weight: 600; }
.group-title { margin-top: 16px; }
.diff-steps { display: flex; flex-direction: column; gap: 8px; }
.diff-step { border: 1px solid var(--line); border-radius: 10px; background: #fff; overflow: hidden; }
.diff-step.failing { border-color: #fca5a5; box-shadow: 0 0 0 2px #fee2e2; }
.diff-step.first:not(.failing) { border-color: #c7d2fe; }
.diff-step.minor { opacity: .75; }
.diff-head { display: flex; align-items: center; gap: 8px; padding: 8px 12px; background: #f8fafc; flex-wrap: wrap; }
.index { flex: none; width: 22px; height: 22px; border-radius: 50%; background: #e2e8f0; color: #475569;
         display: inline-flex; align-items: center; justify-content: center; font-size: 11.5px; font-weight: 600; }
.names { display: flex; flex-direction: column; min-width: 0; flex: 1; }
.node-name { font-weight: 600; overflow-wrap: anywhere; }
.node-type { font-size: 12px; color: var(--muted); }
.badge { font-size: 11.5px; font-weight: 600; border-radius: 999px; padding: 1px 8px; white-space: nowrap; }
.first-badge { background: #e0e7ff; color: #3730a3; }
.only { background: #ede9fe; color: #5b21b6; }
.slower { background: #fef3c7; color: #92400e; }
.faster { background: #e0f2fe; color: #075985; }
.status-change { display: inline-flex; align-items: center; gap: 4px; }
.arrow { color: #94a3b8; margin: 0 5px; }
.diff-body { padding: 4px 12px 10px; }
.error { margin: 0; white-space: pre-wrap; word-break: break-word; background: #fef2f2; border: 1px solid #fecaca;
         color: #991b1b; border-radius: 8px; padding: 6px 9px; font-size: 12.5px; font-family: var(--mono); }
.change-list { display: flex; flex-direction: column; gap: 3px; }
.change { display: grid; grid-template-columns: minmax(110px, max-content) 1fr; gap: 10px; align-items: baseline;
          padding: 3px 0; border-bottom: 1px dashed #eef2f6; }
.change:last-child { border-bottom: 0; }
.path { font-size: 12px; color: #1e293b; font-weight: 600; overflow-wrap: anywhere; }
.values { overflow-wrap: anywhere; font-size: 12px; }
.value.before { color: #15803d; }
.value.after { color: #b91c1c; }
.value.missing { color: #b91c1c; font-style: italic; font-weight: 600; }
.output .path, .output .value { opacity: .8; }
.output .value.before, .output .value.after { color: #475569; }
.duration-line { margin-top: 8px; font-size: 12.5px; display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.duration-line .label { color: var(--muted); }
.more { margin-top: 6px; font-size: 12px; }
"""]

    def __init__(self, on_open: Callable[[str], None], **params):
        super().__init__(**params)
        self._on_open = on_open

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict) and msg.get("action") == "open" and msg.get("id"):
            self._on_open(str(msg["id"]))


class CompareView(pn.viewable.Viewer):
    """Loads and shows the comparison of the open execution; recomputed only when its record changed."""

    def __init__(self, source: LogSource, on_open: Callable[[str], None], **params):
        super().__init__(**params)
        self.source = source
        self.view = ComparisonView(on_open, message="Loading…", sizing_mode="stretch_width", margin=0,
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
