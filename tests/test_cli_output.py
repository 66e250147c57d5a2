"""What `flowlogs` prints for a person: ids whole at 80 columns and piped, flow names matched as the
dashboard matches them, triggers and step numbers as the dashboard shows them, lists that say what
they left out, and --version. On a real terminal (a pty) and for --version as a user runs it, a subprocess;
piped output in this process (tests/cli_inproc.py: the same app and consoles, not a terminal, no COLUMNS, as
in a pipe), without ~1 s of interpreter start per command."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_inproc import run_cli
from factories import line, started

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
CLI = [sys.executable, "-m", "dashboard.cli"]


def plain_env(**extra: str) -> dict[str, str]:
    """The environment without a width: rich then measures the terminal, or takes 80 when piped."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    return {**env, **extra}


def piped(*args: str, data: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = run_cli([*args, "--data", str(data)], env=plain_env())
    if check:
        assert result.returncode == 0, result.stderr
    return result


def on_terminal(*args: str, data: Path, columns: int = 80) -> str:
    """The command's output on a pseudo-terminal `columns` wide (stdout and stderr), escape codes removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen([*CLI, *args, "--data", str(data)], stdin=slave, stdout=slave, stderr=slave,
                               env=plain_env(TERM="xterm-256color"), close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(60) == 0
    return ANSI.sub("", b"".join(chunks).decode())


def as_json(*args: str, data: Path):
    return json.loads(piped(*args, "--json", data=data).stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("cli-output") / "demo"
    noon = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    piped("demo", "--days", "5", "--per-day", "40", "--seed", "3", "--now", noon.isoformat(), data=data)
    return data


def widest_line(text: str) -> int:
    return max(len(line) for line in text.splitlines())


# -- ids --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["piped", "terminal"])
@pytest.mark.parametrize("command", [["executions", "--limit", "8"], ["failures"]])
def test_execution_ids_are_whole_at_80_columns(demo, command, how):
    expected = [r["execution_id"] for r in as_json(*command, data=demo)]
    assert expected
    text = piped(*command, data=demo).stdout if how == "piped" else on_terminal(*command, data=demo)
    assert widest_line(text) <= 80
    assert "…" not in "".join(UUID.findall(text))
    shown = UUID.findall(text)
    assert shown == expected  # each whole, on one line, in order
    # the id as printed works in `show`
    assert piped("show", shown[0], data=demo).returncode == 0


def test_flow_names_are_never_cut(demo):
    text = piped("flows", data=demo).stdout
    assert "…" not in text and widest_line(text) <= 80
    words = text.split()
    for flow in as_json("flows", data=demo):
        assert all(word in words for word in flow["flow_name"].split())


def test_audit_ids_are_whole(demo, tmp_path):
    victims = [r["execution_id"] for r in as_json("executions", "--status", "completed", "--limit", "2", data=demo)]
    for victim in victims:
        piped("delete", victim, data=demo)
    for how in ("piped", "terminal"):
        text = piped("audit", data=demo).stdout if how == "piped" else on_terminal("audit", data=demo)
        assert widest_line(text) <= 80 and set(victims) <= set(UUID.findall(text)), how


def test_a_wide_terminal_shows_every_column(demo):
    text = on_terminal("executions", "--limit", "3", data=demo, columns=200)
    assert "messages_failed" in text and "left out" not in text
    narrow = piped("executions", "--limit", "3", data=demo).stdout
    assert "left out at 80 columns" in narrow and "--json has every field" in narrow


# -- flow names -------------------------------------------------------------------------------------


def test_flow_names_match_ignoring_case(demo):
    exact = as_json("executions", "--flow", "Support Auto-Reply", "--limit", "200", data=demo)
    assert exact
    assert as_json("executions", "--flow", "support auto-reply", "--limit", "200", data=demo) == exact
    assert as_json("failures", "--flow", "SUPPORT AUTO-REPLY", data=demo) == [
        f for f in as_json("failures", data=demo) if f["flow_name"] == "Support Auto-Reply"]
    # the README's example finds rows
    table = piped("executions", "--flow", "Support auto-reply", "--status", "failed", "--limit", "20",
                  data=demo).stdout
    assert UUID.search(table)


def test_an_unknown_flow_is_an_error_with_the_nearest_name(demo):
    result = piped("executions", "--flow", "Suport autoreply", data=demo, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "no flow named 'Suport autoreply'; did you mean 'Support Auto-Reply'?" in " ".join(result.stderr.split())
    result = piped("failures", "--flow", "Nothing like it", data=demo, check=False)
    assert result.returncode == 1 and "no flow named 'Nothing like it'" in result.stderr
    assert "did you mean" not in result.stderr


# -- show ------------------------------------------------------------------------------------------


def test_show_reads_like_the_dashboard(demo):
    failure = next(f for f in as_json("failures", data=demo) if f["trigger"]["type"] == "incoming_message")
    record = as_json("show", failure["execution_id"], data=demo)
    assert [s["index"] for s in record["steps"]] == list(range(len(record["steps"])))  # JSON: the contract's index
    text = piped("show", failure["execution_id"], data=demo).stdout
    assert f"trigger: incoming message from {failure['trigger']['phone']}\n" in text
    assert "{'type'" not in text
    numbers = [int(n) for n in re.findall(r"^#(\d+) ", text, flags=re.M)]
    assert numbers == list(range(1, len(record["steps"]) + 1))  # numbered from 1 as the dashboard numbers them
    failing = record["steps"][failure["failed_step_index"]]
    assert f"#{failure['failed_step_index'] + 1} {failing['node_name']} " in text


def test_version(tmp_path):
    result = subprocess.run([*CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"flowlogs {version('flowlogs')}"


# -- lists that say what they left out ---------------------------------------------------------------


def test_close_stale_says_how_many_ids_it_left_out(tmp_path):
    data = tmp_path / "logs"
    events = tmp_path / "running.jsonl"
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    ids = [f"stuck-{i:02d}" for i in range(18)]
    events.write_text("".join(line(started(i, old)) + "\n" for i in ids))
    piped("ingest", str(events), data=data)
    time.sleep(1.2)  # silence is counted from when the events arrived
    text = " ".join(piped("close-stale", "--hours", "0.0002", data=data).stderr.split())
    assert text.startswith("closed 18 execution(s) silent for")
    assert text.endswith("… and 8 more; --json lists all")
    assert len(set(re.findall(r"stuck-\d\d", text))) == 10

    more = [f"late-{i:02d}" for i in range(12)]
    events.write_text("".join(line(started(i, old)) + "\n" for i in more))
    piped("ingest", str(events), data=data)
    time.sleep(1.2)
    closed = json.loads(piped("close-stale", "--hours", "0.0002", "--json", data=data).stdout)["closed"]
    assert sorted(closed) == more
