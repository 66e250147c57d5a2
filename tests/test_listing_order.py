"""Every listing has one total order: rows that tie on time come out in the same order whatever
order they were ingested in (issue 15, item 12)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from factories import UTC, finished, line, started, step
from typer.testing import CliRunner

from dashboard.cli import app
from dashboard.ingest import ingest_lines
from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
IDS = ["e-b", "e-a", "e-c"]  # ingest order differs from the id order


def failed_run(execution_id: str) -> list[str]:
    return [line(started(execution_id, T0, flow_name="Same time")),
            line(step(execution_id, 0, T0, status="failed", error="WhatsApp disconnected")),
            line(finished(execution_id, T0 + dt.timedelta(seconds=2), "failed"))]


def store_with(root: Path, ids: list[str]) -> Path:
    with Writer(Store(root), flush_interval=None) as writer:
        report = ingest_lines([text.encode() for i in ids for text in failed_run(i)], writer)
    assert report.ok and report.accepted == 3 * len(ids)
    return root


def test_failures_with_the_same_start_come_out_in_one_order_whatever_the_ingest_order(tmp_path):
    forward = store_with(tmp_path / "forward", IDS)
    backward = store_with(tmp_path / "backward", IDS[::-1])
    expected = sorted(IDS, reverse=True)  # newest first, then execution id, descending (as `executions`)
    for root in (forward, backward):
        assert list(LogQueries(Store(root)).failures()["execution_id"]) == expected
        assert list(LogQueries(Store(root)).executions()["execution_id"]) == expected
        result = CliRunner().invoke(app, ["failures", "--data", str(root), "--json"])
        assert result.exit_code == 0, result.output
        assert [r["execution_id"] for r in json.loads(result.stdout)] == expected


def test_flow_groups_and_the_last_success_have_one_order_on_ties(tmp_path):
    from dashboard.compare import last_success

    def runs(order: list[str]) -> list[str]:
        lines = []
        for name in order:  # two flows whose last activity is the same instant
            lines += [line(started(f"{name}-ok-1", T0, flow_name=name)),
                      line(finished(f"{name}-ok-1", T0 + dt.timedelta(seconds=1))),
                      line(started(f"{name}-ok-2", T0, flow_name=name)),   # the same start: a tie for last success
                      line(finished(f"{name}-ok-2", T0 + dt.timedelta(seconds=1))),
                      line(started(f"{name}-bad", T0 + dt.timedelta(minutes=5), flow_name=name)),
                      line(finished(f"{name}-bad", T0 + dt.timedelta(minutes=6), "failed"))]
        return lines

    results = []
    for folder, order in (("forward", ["Alpha", "Beta"]), ("backward", ["Beta", "Alpha"])):
        root = tmp_path / folder
        with Writer(Store(root), flush_interval=None) as writer:
            assert ingest_lines([t.encode() for t in runs(order)[::1 if folder == "forward" else -1]], writer).ok
        logs = LogQueries(Store(root))
        cli = CliRunner().invoke(app, ["flows", "--data", str(root), "--json"])
        baseline = last_success(logs, logs.execution("Alpha-bad"))
        results.append(([g["flow_name"] for g in json.loads(cli.stdout)], list(logs.flow_groups()["flow_name"]),
                         baseline["execution_id"]))
    assert results[0] == results[1] == (["Alpha", "Beta"], ["Alpha", "Beta"], "Alpha-ok-2")
