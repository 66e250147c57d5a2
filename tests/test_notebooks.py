"""The notebooks, run top to bottom in a fresh kernel on demo data, as a newcomer runs them."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.reports import GROUP_KEYS
from dashboard.store import Store

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FIGURE_MIMES = {"application/vnd.holoviews_exec.v0+json", "application/vnd.bokehjs_exec.v0+json"}
DAYS, PER_DAY = 10, 40

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("notebooks") / "logs"
    generate_history(Store(data), days=DAYS, per_day=PER_DAY, seed=1)
    return data


def set_parameters(nb, **values) -> None:
    """Rewrite assignments of the `parameters` cell, as papermill would inject them."""
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    for name, value in values.items():
        cell.source, found = re.subn(rf"^{name} = [^#\n]*", f"{name} = {value!r}  ", cell.source, flags=re.M)
        assert found == 1, f"the parameters cell has no `{name} = ...` line"


def run(name: str, cwd: Path, **parameters):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    set_parameters(nb, **parameters)
    cwd.mkdir(parents=True, exist_ok=True)
    NotebookClient(nb, kernel_name="python3", timeout=240, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs(nb):
    return [(cell, out) for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def stdout(nb) -> str:
    return "".join(out.get("text", "") for _, out in outputs(nb) if out.get("name") == "stdout")


def stderr(nb) -> str:
    return "".join(out.get("text", "") for _, out in outputs(nb) if out.get("name") == "stderr")


def figures(nb) -> list:
    return [out for _, out in outputs(nb) if FIGURE_MIMES & set(out.get("data", {}))]


def marker(nb, name: str) -> int:
    values = re.findall(rf"^{name}=(\d+)\s*$", stdout(nb), flags=re.M)
    assert values, f"the notebook printed no {name}=N line"
    return int(values[-1])


@pytest.mark.parametrize("name", ["explore_failures.ipynb", "token_usage.ipynb"])
def test_committed_notebooks_are_clean_and_parameterised(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks with outputs cleared"
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert params is code[0], "the parameters cell comes first"
    assert re.search(r'^data_dir = "../data/logs"', params.source, flags=re.M)
    assert nb.metadata.kernelspec.name == "python3"


def test_failures_notebook_walks_through_a_failed_execution(demo, tmp_path):
    nb = run("explore_failures.ipynb", tmp_path / "cwd", data_dir=str(demo))
    failures = LogQueries(Store(demo)).failures()
    assert len(failures) > 0, "the demo data has failures to explore"
    assert marker(nb, "failure_count") == len(failures)
    assert "Traceback" not in stderr(nb)

    # the by-flow chart, the timeline by cause, and the dashboard's detail panel
    assert len(figures(nb)) >= 3
    opened = re.search(r"^execution ([0-9a-f-]{36}), started", stdout(nb), flags=re.M)
    assert opened, "the notebook names the execution it opened"
    execution_id = opened[1]
    assert execution_id in set(failures["execution_id"])
    panel_cell = next(c for c in nb.cells if "DetailPanel(" in c.source)
    rendered = "".join(o.get("data", {}).get("text/html", "") for o in panel_cell.outputs)
    assert execution_id in rendered, "the detail panel shows the chosen execution, loaded"

    record = LogQueries(Store(demo)).execution(execution_id)
    failing = next(s for s in record["steps"] if s["status"] == "failed")
    assert f"error: {failing['error']}" in stdout(nb)

    # the next questions are answered with tables
    for needle in ("repeat_phones", "missing_variables"):
        cell = next(c for c in nb.cells if c.source.rstrip().endswith(needle))
        assert any("text/html" in o.get("data", {}) for o in cell.outputs), needle


def test_token_notebook_writes_demo_data_when_empty_and_agrees_with_the_store(tmp_path):
    data = tmp_path / "empty-logs"  # a newcomer's first run: the notebook writes demo history itself
    cwd = tmp_path / "cwd"
    nb = run("token_usage.ipynb", cwd, data_dir=str(data), demo_days=DAYS, demo_per_day=PER_DAY,
             report_dir="exports")
    assert "writing 10 days of demo history" in stdout(nb)
    logs = LogQueries(Store(data))
    expected = int(logs.token_usage("model")["total_tokens"].sum())
    assert expected > 0
    assert marker(nb, "total_tokens") == expected
    assert len(figures(nb)) >= 6
    assert "Traceback" not in stderr(nb)

    exports = cwd / "exports"
    for by in GROUP_KEYS:
        with open(exports / f"tokens-by-{by}.csv", newline="") as fh:
            assert sum(int(row["total_tokens"]) for row in csv.DictReader(fh)) == expected, by
    html = (exports / "tokens-report.html").read_text()
    assert "cdn.bokeh.org" not in html and len(html) > 1_000_000  # scripts inline: opens offline


def test_failures_notebook_runs_on_a_range_and_a_flow(demo, tmp_path):
    failures = LogQueries(Store(demo)).failures()
    flow = failures["flow_name"].value_counts().index[0]
    day = str(failures[failures["flow_name"] == flow]["started_at"].iloc[0].date())
    nb = run("explore_failures.ipynb", tmp_path, data_dir=str(demo), since=day, until=day, flow_name=flow)
    expected = LogQueries(Store(demo)).failures(since=dt.date.fromisoformat(day), until=dt.date.fromisoformat(day),
                                         flow_name=flow)
    assert marker(nb, "failure_count") == len(expected) > 0
    assert f"{flow} · " in stdout(nb)


# -- any store the contract allows (issue 15, item 11) -------------------------------------------------

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


def ingest_events(root: Path, events: list[dict]) -> None:
    from factories import line

    from dashboard.ingest import ingest_lines
    from dashboard.writer import Writer

    with Writer(Store(root), flush_interval=None) as writer:
        report = ingest_lines([line(e).encode() for e in events], writer)
    assert report.ok, report.rejected


@pytest.fixture(scope="module")
def odd_shapes(tmp_path_factory) -> Path:
    """Failed executions without a failed step, without any step, without input; running ones; ties."""
    from factories import finished, started, step

    root = tmp_path_factory.mktemp("odd") / "logs"
    at = [T0 + dt.timedelta(minutes=m) for m in range(10)]
    ingest_events(root, [
        # stopped outside any step: the error is on execution_finished only
        started("timed-out", at[0], flow_name="Nightly sync"),
        step("timed-out", 0, at[0], node_type="http_request", input={"url": "https://erp.example/orders"}),
        finished("timed-out", at[1], "failed", error="Execution timed out after 300 s"),
        # failed before its first step
        started("no-steps", at[2], flow_name="Nightly sync"),
        finished("no-steps", at[2], "failed", error="Flow definition could not be loaded"),
        # a failed step without input, and one whose input is not an object
        started("no-input", at[3], flow_name="Support auto-reply", trigger="incoming_message",
                phone="+4915112345678"),
        step("no-input", 0, at[3], status="failed", error="WhatsApp disconnected"),
        finished("no-input", at[4], "completed_with_errors", messages_failed=1),
        started("list-input", at[5], flow_name="Support auto-reply", trigger="incoming_message",
                phone="+4915112345678"),
        step("list-input", 0, at[5], status="failed", error="Template variable {{name}} is missing",
             input=["+4915112345678", None, 3]),
        finished("list-input", at[6], "failed"),
        # still running, and a tie on the start time with another failure
        started("running", at[7], flow_name="Daily broadcast", trigger="schedule"),
        started("tie-a", at[8], flow_name="Tied"), finished("tie-a", at[9], "failed", error="boom"),
        started("tie-b", at[8], flow_name="Tied"), finished("tie-b", at[9], "failed", error="boom"),
    ])
    # stored before ingest limited nesting (issue 15, item 1): a failed step's input 950 levels deep
    from factories import line

    from dashboard import events
    from dashboard.writer import Writer

    deep = line(step("deep", 0, at[0], status="failed", error="Invalid phone number"))[:-1] + \
        ', "input": ' + "[" * 950 + '{"phone": "+4915112345678"}' + "]" * 950 + "}"
    with Writer(Store(root), flush_interval=None) as writer:
        for text in (line(started("deep", at[0], flow_name="Deep")), deep,
                     line(finished("deep", at[1], "failed"))):
            writer.write(events._decoder.decode(text))
    return root


def assert_ran_clean(nb) -> None:
    assert "Traceback" not in stderr(nb)
    errors = [o for _, o in outputs(nb) if o.get("output_type") == "error"]
    assert errors == [], errors


@pytest.mark.parametrize("execution_id", [None, "timed-out", "no-steps", "no-input", "list-input", "deep"])
def test_failures_notebook_runs_on_every_shape_of_failure(odd_shapes, tmp_path, execution_id):
    nb = run("explore_failures.ipynb", tmp_path, data_dir=str(odd_shapes), execution_id=execution_id, demo_days=0)
    assert_ran_clean(nb)
    assert marker(nb, "failure_count") == len(LogQueries(Store(odd_shapes)).failures())
    if execution_id in ("timed-out", "no-steps"):
        assert "No failed step; the execution's error:" in stdout(nb)
    if execution_id is None:  # the latest failure of the most common cause: the same whatever the ingest order
        opened = re.search(r"^execution (\S+), started", stdout(nb), flags=re.M)[1]
        assert opened == "tie-b"


@pytest.mark.parametrize("name", ["explore_failures.ipynb", "token_usage.ipynb"])
@pytest.mark.parametrize("store", ["empty", "only running"])
def test_notebooks_run_on_an_empty_store_and_on_running_executions_only(tmp_path, name, store):
    from factories import started, step

    root = tmp_path / "logs"
    root.mkdir()
    if store == "only running":
        ingest_events(root, [started("r-1", T0), step("r-1", 0, T0), started("r-2", T0, flow_name="Other")])
    nb = run(name, tmp_path / "cwd", data_dir=str(root), demo_days=0)
    assert_ran_clean(nb)
    assert "demo history" not in stdout(nb)  # demo_days=0: an empty store stays empty
