"""The README, as a newcomer follows it: every command of its ```bash blocks runs, in order, against demo
data written by `flowlogs demo`, and exits 0; the listing commands print rows. Its links stay inside
the repository.

A line is run through the installed `flowlogs` (or `papermill`) script as a subprocess, in a scratch
directory, after these substitutions: `--per-day` is made small and the history ends on the last date
the README's commands ask about (so `--since 2026-11-01` finds rows whatever day the suite runs), `ID`
is a real execution id, `a|b|c` (alternatives, not a pipe) runs once per alternative, and
`events.jsonl` is the whole-execution example of docs/events.md, and `migrate` moves the old-layout
store of tests/fixtures. Lines that serve until stopped are
skipped, each kind with its reason in SKIPPED."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
SMALL_PER_DAY = "20"
LISTING = {"flows", "executions", "failures", "tokens", "audit"}  # commands whose example must print rows

# What is not run, and why. Anything else in a ```bash block must be runnable here.
SKIPPED = {
    "make demo": "installs, then serves until Ctrl+C; its history step is the `flowlogs demo` line, run here",
    "make test": "is this test suite",
    "make notebooks": "installs, then serves Jupyter until Ctrl+C; the papermill line is run here",
    "export": "sets the cookie secret of the `flowlogs serve` lines, which are skipped",
    "flowlogs serve": "serves until Ctrl+C: the browser tests serve the same way (tests/browser/conftest.py)",
    "flowlogs collect": "serves until stopped: tests/test_collector.py runs it as a process and posts to it",
    "--live": "produces executions until stopped: tests/test_demo_live.py runs it and stops it with signals",
}

pytestmark = pytest.mark.slow


def commands() -> list[str]:
    """The command lines of the README's ```bash blocks, continuation lines joined, comments kept."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [line.strip() for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def skip_reason(words: list[str]) -> str | None:
    line = " ".join(words)
    for start, reason in SKIPPED.items():
        if line.startswith(start) or (start.startswith("--") and start in words):
            return reason
    return None


def history_end() -> str:
    """Noon of the last date the README's commands name: every --since/--until of theirs has rows."""
    dates = re.findall(r"\b20\d\d-\d\d-\d\d\b", " ".join(commands()))
    return f"{max(dates)}T12:00:00Z"


def run(words: list[str], cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    script = BIN / words[0]
    argv = [str(script), *words[1:]] if script.exists() else [sys.executable, "-m", "dashboard.cli", *words[1:]]
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWLOGS_DATA", "COLUMNS")}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, input=input, timeout=600, env=env)


def alternatives(words: list[str]) -> list[list[str]]:
    """`--by day|flow|node|model` is four commands."""
    choices = [word.split("|") if "|" in word else [word] for word in words]
    return [list(combination) for combination in itertools.product(*choices)]


def execution_id(cwd: Path, data: str, status: str, flow: str | None = None) -> str:
    args = ["flowlogs", "executions", "--data", data, "--status", status, "--limit", "1", "--json"]
    result = run(args + (["--flow", flow] if flow else []), cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["execution_id"]


def whole_execution_example() -> str:
    page = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", page, flags=re.M | re.S)
    return next(text for info, text in blocks if info == "jsonl")  # the first one is the accepted example


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch directory standing for the repository root: data/logs holds demo history as `make demo`
    writes it, events.jsonl an engine's events, notebooks/ the repository's notebooks."""
    cwd = tmp_path_factory.mktemp("readme")
    made = run(["flowlogs", "demo", "--data", "data/logs", "--days", "30", "--per-day", SMALL_PER_DAY, "--seed", "1",
                "--now", history_end()], cwd)
    assert made.returncode == 0, made.stderr
    (cwd / "events.jsonl").write_text(whole_execution_example(), encoding="utf-8")
    (cwd / "notebooks").symlink_to(ROOT / "notebooks")
    return cwd


def prepared(words: list[str], cwd: Path) -> list[str]:
    """The README's line with demo-sized history and real ids."""
    words = list(words)
    if words[:2] == ["flowlogs", "demo"]:
        words[words.index("--per-day") + 1] = SMALL_PER_DAY
        words += ["--now", history_end()]
    if words[1] == "migrate":  # a store of the layout before Delta tables: the one that layout's code wrote
        old, new = words[words.index("--from") + 1], words[words.index("--data") + 1]
        shutil.rmtree(cwd / old, ignore_errors=True)
        shutil.rmtree(cwd / new, ignore_errors=True)
        shutil.copytree(ROOT / "tests" / "fixtures" / "old-layout", cwd / old)
    if "ID" in words:
        data = words[words.index("--data") + 1]
        wanted = ("failed", "Support Auto-Reply") if words[1] == "show" else ("completed", None)
        words[words.index("ID")] = execution_id(cwd, data, *wanted)
    return words


def prints_rows(words: list[str], result: subprocess.CompletedProcess, cwd: Path) -> bool:
    output = next((words[i + 1] for i, w in enumerate(words) if w in ("--output", "-o")), None)
    if output:
        text = (cwd / output).read_text(encoding="utf-8")
        return len(text.splitlines()) > 1 if output.endswith(".csv") else len(text) > 1000
    if "--json" in words or "json" in words:
        return bool(json.loads(result.stdout))
    if "csv" in words:
        return len(result.stdout.splitlines()) > 1
    if "html" in words:
        return (cwd / "tokens-report.html").stat().st_size > 1000
    return any(line.startswith("│") for line in result.stdout.splitlines())  # a body row of the table


def test_every_readme_line_is_run_or_skipped_for_a_reason():
    lines = commands()
    assert any(line.startswith("flowlogs ") for line in lines) and any(line.startswith("papermill ") for line in
                                                                       lines)
    for line in lines:
        words = shlex.split(line, comments=True)
        assert skip_reason(words) or words[0] in ("flowlogs", "papermill"), (
            f"the README runs {line!r}: run it in this test, or say in SKIPPED why not")


def test_every_flowlogs_command_of_the_readme_runs_on_demo_data(workdir):
    ran = set()
    for line in commands():
        words = shlex.split(line, comments=True)
        if words[0] != "flowlogs" or skip_reason(words):
            continue
        for variant in alternatives(prepared(words, workdir)):
            answer = "y\n" if variant[1] == "clear" else None
            result = run(variant, workdir, input=answer)
            assert result.returncode == 0, f"{shlex.join(variant)} exited {result.returncode}:\n{result.stderr}"
            if variant[1] in LISTING:
                assert prints_rows(variant, result, workdir), f"{shlex.join(variant)} printed no rows:\n" \
                                                              f"{result.stdout}{result.stderr}"
            if variant[1] == "counts":
                assert json.loads(result.stdout)["all"] > 0
            ran.add(variant[1])
    # the README shows every command there is (serve and demo --live are run elsewhere, see SKIPPED)
    listed = subprocess.run([str(BIN / "flowlogs"), "--help"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200"}).stdout
    commands_of_cli = set(re.findall(r"^│ (\w[\w-]*) ", listed, flags=re.M))
    assert commands_of_cli - ran == {"serve", "collect"}


def test_the_readme_papermill_command_runs(workdir):
    (line,) = [line for line in commands() if line.startswith("papermill ")]
    words = shlex.split(line, comments=True)
    result = run(words, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    output = workdir / words[2]
    executed = json.loads(output.read_text(encoding="utf-8"))
    text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert "holds no logs yet" not in text  # it read the history of data/logs, not a demo of its own
    assert any("parameters" in c["metadata"].get("tags", []) or "injected-parameters" in c["metadata"].get("tags", [])
               for c in executed["cells"])


def test_links_stay_in_the_repository():
    """A clone holds everything its documents point to: no ../shared/..., no file missing."""
    for page in [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "data" / "README.md"]:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and not re.search(r"(?<![\w/])EVENTS\.md", text), page
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{page.name} links to {target}"

