"""The load test at a small scale, so its code cannot rot: 2 sessions, 100 events/s, about 5 s.

It runs the command as the lead would (a real server, real writer processes, Debian's
Chromium) and checks that nothing went wrong and every interaction was measured. No
timing is asserted: the figures belong in BENCHMARKS.md, from the full run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load_sessions import KINDS

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_small_load_runs_without_errors_and_measures_every_interaction(tmp_path):
    figures = tmp_path / "load.json"
    command = [sys.executable, "-m", "benchmarks.load_test", "--data", str(tmp_path / "logs"), "--days", "2",
               "--per-day", "100", "--sessions", "2", "--rate", "100", "--duration", "5", "--writers", "1",
               "--think", "0.2", "--reload", "--json", str(figures)]  # --reload: every kind, page loads too
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert figures.exists(), done.stdout + done.stderr
    result = json.loads(figures.read_text())

    assert result["errors"] == {}, done.stdout
    assert done.returncode == 0
    assert "| errors | **0** |" in done.stdout
    assert set(KINDS) <= set(result["latencies"]), result["latencies"]
    assert all(s["count"] > 0 and s["p50"] > 0 for s in result["latencies"].values())
    events = result["events"]
    assert events["emitted"] > 0 and events["acknowledged"] == events["emitted"]
    assert result["store_after"]["executions"] > result["store_before"]["executions"] > 0
