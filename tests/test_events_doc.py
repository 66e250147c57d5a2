"""docs/events.md and docs/events.schema.json, the event contract in the repository: the schema is what
`dashboard.events` generates, every example of the page is accepted by `flowlogs ingest` (and by the
schema), and the page's rejected example is reported exactly as the page shows."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from cli_inproc import run_cli

from dashboard.events import event_json_schema, event_json_schema_text

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = DOCS / "events.md"
SCHEMA = DOCS / "events.schema.json"


def fenced_blocks() -> list[tuple[str, str]]:
    """(info string, text) of each fenced block of the page, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", PAGE.read_text(encoding="utf-8"), flags=re.M | re.S)


def examples() -> tuple[list[str], list[tuple[str, str]]]:
    """The accepted examples, as JSON lines, and the rejected ones with their report.

    A `json` block is one event (spread over lines for reading); a `jsonl` block is a file of events, one a
    line; a `jsonl` block followed at once by a `text` block is a rejected example and what ingest reports."""
    blocks = fenced_blocks()
    accepted, rejected = [], []
    for i, (info, text) in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
        if info == "json":
            accepted.append(json.dumps(json.loads(text), ensure_ascii=False))
        elif info == "jsonl" and following[0] == "text":
            rejected.append((text, following[1]))
        elif info == "jsonl":
            accepted.extend(line for line in text.splitlines() if line.strip())
    return accepted, rejected


def ingest(data: Path, file: Path) -> subprocess.CompletedProcess:
    return run_cli(["ingest", str(file), "--data", str(data)])  # in this process (tests/cli_inproc.py)


def test_the_committed_schema_is_generated_from_the_types():
    assert SCHEMA.read_text(encoding="utf-8") == event_json_schema_text(), (
        "docs/events.schema.json is out of date: run `python -m dashboard.events > docs/events.schema.json`")


def test_the_page_has_an_example_of_each_event():
    accepted, rejected = examples()
    assert {json.loads(line)["type"] for line in accepted} == {"execution_started", "step_finished",
                                                                "execution_finished"}
    assert rejected


def test_every_example_is_accepted_by_flowlogs_ingest(tmp_path):
    accepted, _ = examples()
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(accepted) + "\n", encoding="utf-8")
    result = ingest(tmp_path / "logs", events)
    assert result.returncode == 0, result.stderr
    assert f"stored {len(accepted)} events, rejected 0 lines" in result.stderr
    assert "wait for their execution_started" not in result.stderr  # every step and finish found its start

    # what was sent is what `show --json` gives back, under the same names
    sent = [json.loads(line) for line in accepted]
    for start in (e for e in sent if e["type"] == "execution_started"):
        result = run_cli(["show", start["execution_id"], "--json", "--data", str(tmp_path / "logs")])
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        assert shown["flow_name"] == start["flow_name"] and shown["trigger"] == start["trigger"]
        steps = [e for e in sent if e["type"] == "step_finished" and e["execution_id"] == start["execution_id"]]
        assert [s["index"] for s in shown["steps"]] == sorted(s["index"] for s in steps)
        for step in steps:
            (stored,) = [s for s in shown["steps"] if s["index"] == step["index"]]
            for field in ("node_name", "status", "model", "tokens", "ai_reply", "error", "input", "output"):
                assert stored.get(field) == step.get(field), field


def test_every_example_is_valid_against_the_schema():
    accepted, _ = examples()
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for line in accepted:
        validator.validate(json.loads(line))
    # and it refuses what it can express: a missing field, an unknown status, a long id
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"type": "execution_finished", "at": "2026-11-21T09:15:03Z", "status": "completed"})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"type": "execution_finished", "execution_id": "e", "at": "2026-11-21T09:15:03Z",
                            "status": "running"})
    assert event_json_schema()["$defs"]["ExecutionStarted"]["properties"]["execution_id"]["maxLength"] == 200


def test_the_rejected_example_is_reported_as_the_page_says(tmp_path):
    _, rejected = examples()
    for lines, report in rejected:
        events = tmp_path / "rejected.jsonl"
        events.write_text(lines, encoding="utf-8")
        result = ingest(tmp_path / "logs", events)
        assert result.returncode == 1
        assert result.stderr.splitlines() == report.splitlines()
