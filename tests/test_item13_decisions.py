"""Decided and documented (README): an AI step without a model is its own group, not the model
"unknown"; `--by node` groups by node id, so two nodes of a flow that share a name stay apart; and
ingest says how many events still wait for their execution_started at its end, not how many waited
on the way."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

from cli_inproc import run_cli
from factories import line, started, step

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)


def flowlogs(*args: str) -> subprocess.CompletedProcess:
    # in this process (tests/cli_inproc.py): the real app, no interpreter start
    result = run_cli(args, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode in (0, 1), result.stderr
    return result


def ingest(tmp_path: Path, events: list[dict]) -> subprocess.CompletedProcess:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(line(e) for e in events) + "\n")
    return flowlogs("ingest", "--data", str(tmp_path / "logs"), str(source))


def ai(x: str, index: int, model: str | None, node_id: str, node_name: str, tokens: tuple[int, int]) -> dict:
    event = step(x, index, T0 + dt.timedelta(seconds=index), tokens=tokens, node_id=node_id, node_name=node_name)
    if model is None:
        del event["model"]
    else:
        event["model"] = model
    return event


def test_a_step_without_a_model_is_not_the_model_named_unknown_and_nodes_group_by_id(tmp_path):
    events = [started("r", T0, flow_name="Support"),
              ai("r", 0, None, "n-classify", "AI Response", (100, 10)),
              ai("r", 1, "unknown", "n-answer", "AI Response", (200, 20)),  # a model really named "unknown"
              ai("r", 2, "gpt-4o-mini", "n-answer", "AI Response", (300, 30))]
    assert ingest(tmp_path, events).returncode == 0
    data = str(tmp_path / "logs")
    by_model = json.loads(flowlogs("tokens", "--data", data, "--by", "model", "--json").stdout)
    assert {r["model"]: r["total_tokens"] for r in by_model} == {None: 110, "unknown": 220, "gpt-4o-mini": 330}
    assert "(no model)" in flowlogs("tokens", "--data", data, "--by", "model").stdout
    by_node = json.loads(flowlogs("tokens", "--data", data, "--by", "node", "--json").stdout)
    assert sorted((r["node_id"], r["node_name"], r["total_tokens"]) for r in by_node) == [
        ("n-answer", "AI Response", 550), ("n-classify", "AI Response", 110)]  # one name, two nodes
    flowlogs("compact", "--data", data)  # the same from the day's rollup
    assert json.loads(flowlogs("tokens", "--data", data, "--by", "node", "--json").stdout) == by_node
    assert json.loads(flowlogs("tokens", "--data", data, "--by", "model", "--json").stdout) == by_model


def test_ingest_counts_what_still_waits_for_its_start_at_the_end(tmp_path):
    early = [step("a", 0, T0), step("b", 0, T0)]  # steps first: their starts come later in the same file
    result = ingest(tmp_path, [*early, started("a", T0, flow_name="A"), started("b", T0, flow_name="B")])
    said = " ".join(result.stderr.split())
    assert "stored 4 events" in said and "wait for their execution_started" not in said
    result = ingest(tmp_path, [step("c", 0, T0)])  # its start never comes
    assert "1 wait for their execution_started" in " ".join(result.stderr.split())
