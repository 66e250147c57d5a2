"""Compare a failed execution with the same flow's last successful one, step by step.

    baseline = last_success(queries, execution)          # or None: no earlier success
    diff = compare(execution, baseline)
    diff.first_difference                                  # where to look first

Steps are aligned by node id, and the n-th run of a node (a loop) with the n-th run of the
same node in the other execution. For each pair: status, input and output fields by JSON
path (`variables.first_name`: "Ana" -> missing), and durations. Steps that ran in one
execution only are kept, in the place they ran. Pure Python except `last_success`, which
asks LogQueries; nothing here imports Panel.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .json_values import read_json
from .schema import FAILURE_STATUSES, ExecutionStatus, StepStatus, Tab

# A duration is notably different when one is over twice the other and they are this far apart:
# timings jitter, and a 5 ms step taking 12 ms is not news.
SLOWER_FACTOR = 2.0
SLOWER_MIN_MS = 200
MAX_FIELD_CHANGES = 50  # per step and side: a 500-row batch that differs everywhere is summarised
LOOKBACK = dt.timedelta(days=2)  # the last success is nearly always recent: look there before all history
PAGE = 50


class Missing:
    """The value of a field that is not there (distinct from JSON null)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "missing"

    def __bool__(self) -> bool:
        return False


MISSING = Missing()


@dataclass(frozen=True)
class FieldChange:
    """One JSON field that differs; `before` is the successful run's value, `after` the failed run's."""

    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        if self.after is MISSING:
            return "removed"
        return "changed"


@dataclass
class StepDiff:
    """One step of either execution, with its counterpart in the other (None if it ran in one only)."""

    node_id: str
    node_name: str
    node_type: str
    occurrence: int  # 0 for the first run of this node, 1 for its second (loops) ...
    failed: dict | None  # the step of the failed execution
    success: dict | None  # the step of the successful execution
    input_changes: list[FieldChange] = field(default_factory=list)
    output_changes: list[FieldChange] = field(default_factory=list)
    more_input_changes: int = 0  # changes past MAX_FIELD_CHANGES, counted only
    more_output_changes: int = 0

    @property
    def presence(self) -> str:
        """'both', 'failed_only' (ran only in the failed execution) or 'success_only'."""
        if self.failed is None:
            return "success_only"
        return "failed_only" if self.success is None else "both"

    @property
    def status_changed(self) -> bool:
        return self.presence == "both" and self.failed["status"] != self.success["status"]

    @property
    def error(self) -> str | None:
        return self.failed.get("error") if self.failed else None

    @property
    def duration_ms(self) -> tuple[int | None, int | None]:
        """(failed, success) durations."""
        return (_duration(self.failed), _duration(self.success))

    @property
    def duration_change(self) -> str | None:
        """'slower' or 'faster' when the failed run's step took notably longer or shorter, else None."""
        failed, success = self.duration_ms
        if failed is None or success is None:
            return None
        if failed > SLOWER_FACTOR * success and failed - success > SLOWER_MIN_MS:
            return "slower"
        if success > SLOWER_FACTOR * failed and success - failed > SLOWER_MIN_MS:
            return "faster"
        return None

    @property
    def significant(self) -> bool:
        """Differs in what explains a failure: presence, status, input, an error, a notable duration.

        Outputs alone do not count: message ids and AI replies differ on every run.
        """
        return (self.presence != "both" or self.status_changed or bool(self.input_changes) or bool(self.error)
                or self.duration_change is not None)

    @property
    def differs(self) -> bool:
        return self.significant or bool(self.output_changes)


@dataclass
class Comparison:
    execution: dict  # the failed execution (without its steps)
    baseline: dict  # the successful execution it is compared with (without its steps)
    steps: list[StepDiff]  # every step of both, aligned, in the order they ran
    execution_changes: list[FieldChange]  # trigger type and phone

    @property
    def differing(self) -> list[StepDiff]:
        return [s for s in self.steps if s.differs]

    @property
    def first_difference(self) -> StepDiff | None:
        return next((s for s in self.steps if s.significant), None)

    @property
    def failing_step(self) -> StepDiff | None:
        """The first step that failed in the failed execution."""
        return next((s for s in self.steps if s.failed and s.failed["status"] == StepStatus.FAILED.value), None)


# -- the lookup ------------------------------------------------------------------------------


def last_success(queries, execution: dict) -> dict | None:
    """The same flow's most recent completed execution that started before `execution`, with its steps.

    `queries` is a LogQueries; `execution` a record of `queries.execution(id)` (flow_name, started_at).
    The recent days are searched first, then all history.
    """
    flow, started = execution["flow_name"], execution["started_at"]
    for since in (started - LOOKBACK, None):
        offset = 0
        while True:
            page = queries.executions(flow, Tab.COMPLETED, since=since, until=started, limit=PAGE, offset=offset)
            # the Completed tab holds cancelled runs too: a cancelled run is no model of success
            done = page[page["status"] == ExecutionStatus.COMPLETED.value]
            for execution_id in done["execution_id"]:
                if execution_id != execution["execution_id"]:
                    found = queries.execution(str(execution_id))
                    if found is not None:  # deleted since the list was read
                        return found
            if len(page) < PAGE:
                break
            offset += PAGE
    return None


def can_compare(execution: dict | None) -> bool:
    """Only failed executions (failed, completed with errors) are compared with a success."""
    return execution is not None and execution.get("status") in FAILURE_STATUSES


# -- the diff --------------------------------------------------------------------------------


def compare(failed: dict, success: dict) -> Comparison:
    """What differs between two executions of a flow (records of LogQueries.execution)."""
    pairs = _align(failed.get("steps") or [], success.get("steps") or [])
    diffs = []
    for f, s, occurrence in pairs:
        step = f or s
        diff = StepDiff(node_id=str(step["node_id"]), node_name=str(step["node_name"]),
                        node_type=str(step["node_type"]), occurrence=occurrence, failed=f, success=s)
        if f is not None and s is not None:
            diff.input_changes, diff.more_input_changes = _limited(_missing_first(json_diff(_json(s.get("input")),
                                                                                            _json(f.get("input")))))
            diff.output_changes, diff.more_output_changes = _limited(json_diff(_json(s.get("output")),
                                                                                _json(f.get("output"))))
        diffs.append(diff)
    head = {"trigger_type": "trigger.type", "trigger_phone": "trigger.phone"}
    execution_changes = [FieldChange(path, _or_missing(success.get(key)), _or_missing(failed.get(key)))
                         for key, path in head.items() if failed.get(key) != success.get(key)]
    return Comparison(execution=_head(failed), baseline=_head(success), steps=diffs,
                      execution_changes=execution_changes)


def _align(failed: list[dict], success: list[dict]) -> list[tuple[dict | None, dict | None, int]]:
    """Pairs (failed step, success step, occurrence): the n-th run of a node with the n-th run of it.

    The order is the failed execution's; a step that ran only in the successful one is placed
    right after the step that ran before it there.
    """
    def keyed(steps):
        seen: dict[str, int] = defaultdict(int)
        keys = []
        for step in sorted(steps, key=lambda s: s["index"]):
            node = str(step["node_id"])
            keys.append(((node, seen[node]), step))
            seen[node] += 1
        return keys

    success_keys = keyed(success)
    success_by_key = dict(success_keys)
    rows: list[tuple[dict | None, dict | None, int]] = []
    for key, step in keyed(failed):
        rows.append((step, success_by_key.pop(key, None), key[1]))
    for key, step in success_keys:
        if key not in success_by_key:
            continue  # paired above
        # after the last row whose success step ran before this one (else first)
        position = 0
        for i, (_, s, _) in enumerate(rows):
            if s is not None and s["index"] < step["index"]:
                position = i + 1
        rows.insert(position, (None, step, key[1]))
    return rows


def json_diff(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Every field that differs between two JSON values, by path; lists compare item by item."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            changes += json_diff(before.get(key, MISSING), after.get(key, MISSING), _join(path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for i in range(max(len(before), len(after))):
            changes += json_diff(before[i] if i < len(before) else MISSING, after[i] if i < len(after) else MISSING,
                                 f"{path}[{i}]")
        return changes
    if _same(before, after):
        return []
    return [FieldChange(path or "(value)", before, after)]


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _join(path: str, key: str) -> str:
    part = key if _PLAIN_KEY.match(key) else msgspec.json.encode(key).decode().join("[]")
    if not path:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _same(a: Any, b: Any) -> bool:
    # JSON true is not 1 and 1 is not "1": Python's == says otherwise for the first
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                             and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _missing_first(changes: list[FieldChange]) -> list[FieldChange]:
    """Fields the failed run lacks or left empty first (the missing template variable), then the
    other changes, then fields only the failed run has. A list that got shorter is not a missing field."""

    def rank(change: FieldChange) -> int:
        emptied = change.after is MISSING or change.after is None or change.after == ""
        if emptied and not change.path.endswith("]"):
            return 0
        return 2 if change.kind == "added" else 1

    return sorted(changes, key=rank)


def _limited(changes: list[FieldChange]) -> tuple[list[FieldChange], int]:
    return changes[:MAX_FIELD_CHANGES], max(0, len(changes) - MAX_FIELD_CHANGES)


def _json(text: str | None) -> Any:
    """A step's stored JSON text as Python values; a step without input is MISSING. Text that does not
    read back within the limits (nested deeper than MAX_JSON_DEPTH, a number out of range, not JSON) is
    compared as one text value: json_diff recurses once per level, so depth must stay bounded."""
    if text is None:
        return MISSING
    return read_json(text)


def _or_missing(value: Any) -> Any:
    return MISSING if value is None else value


def _duration(step: dict | None) -> int | None:
    if step is None or step.get("duration_ms") is None:
        return None
    return int(step["duration_ms"])


def _head(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "steps"}
