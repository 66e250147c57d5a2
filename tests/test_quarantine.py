"""Damaged files: a data file a table lists that cannot be read (garbage, cut short, bytes flipped
mid-file with the footer intact) is moved to quarantine/ and reported, every other execution stays
visible, and no command fails on it; a file no table lists (foreign, a directory) is never read."""

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cli_inproc import run_cli

from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.store import Store

NOON = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def flowlogs(*args, root):
    result = run_cli([*args, "--data", str(root)])  # in this process (tests/cli_inproc.py)
    assert result.returncode == 0, f"flowlogs {' '.join(args)}: {result.stderr}"
    return result.stdout


def history(tmp_path, days=3) -> tuple[Path, Store]:
    root = tmp_path / "logs"
    store = Store(root)
    generate_history(store, days=days, per_day=20, seed=4, now=NOON)  # whole days, whatever the hour
    store.compact()
    return root, store


def flip_middle(path: str) -> None:
    """Flip bytes in the middle of a file's data pages: its footer (schema, row groups) still reads."""
    data = bytearray(Path(path).read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")  # the footer's length, before the closing "PAR1"
    pages_end = len(data) - 8 - footer
    start, end = 4 + pages_end // 4, 4 + pages_end // 2
    data[start:end] = bytes(b ^ 0xFF for b in data[start:end])
    Path(path).write_bytes(bytes(data))
    pq.ParquetFile(path)  # the footer is intact


def test_unreadable_listed_files_are_moved_aside_and_reported(tmp_path):
    root, store = history(tmp_path)
    queries = LogQueries(store)
    days = store.days()
    before = queries.tab_counts()
    Path(store.files("executions", [days[0]])[0]).write_text("not parquet at all")
    cut = store.files("steps", [days[1]])[0]
    Path(cut).write_bytes(Path(cut).read_bytes()[:64])  # cut short
    flip_middle(store.files("steps", [days[2]])[0])

    listed = queries.executions(limit=1000)  # day 0's executions are gone with their file; the rest is there
    assert 0 < len(listed) < before["all"] and queries.tab_counts()["all"] == len(listed)
    for record in listed.itertuples():
        queries.execution(record.execution_id)  # every detail opens (a damaged steps file was moved aside)
    moved = store.quarantined()
    assert len(moved) == 3 and all(entry["reason"] for entry in moved)
    for entry in moved:
        assert not Path(entry["file"]).exists() and Path(entry["moved_to"]).is_file()
        assert entry["moved_to"].startswith(str(root / "quarantine"))
    assert not set(store.files("steps")) & {entry["file"] for entry in moved}
    listed = json.loads(flowlogs("quarantine", "--json", root=root))
    assert len(listed) == 3
    for command in (["counts"], ["executions"], ["failures"], ["tokens"], ["compact"], ["retention"]):
        flowlogs(*command, root=root)


def test_foreign_files_and_directories_in_a_day_folder_are_never_read(tmp_path):
    root, store = history(tmp_path, days=2)
    before = LogQueries(store).tab_counts()
    folder = Path(store.files("executions")[0]).parent
    pq.write_table(pa.table({"execution_id": [1, 2], "started_at": ["yesterday", "today"]}),
                   folder / "part-foreign.parquet")  # valid Parquet, another schema
    (folder / "x.parquet").mkdir()
    for command in (["counts", "--json"], ["executions"], ["compact"], ["flows"]):
        flowlogs(*command, root=root)
    assert LogQueries(store).tab_counts() == before
    assert store.quarantined() == []


def test_a_garbage_rollup_is_moved_aside_and_compaction_writes_it_again(tmp_path):
    root, store = history(tmp_path, days=2)
    queries = LogQueries(store)
    before = (queries.tab_counts(), queries.token_usage("model").to_dict("records"))
    for kind in ("rollups", "token_rollups"):
        Path(store.files(kind)[0]).write_text("garbage")
    queries = LogQueries(store)  # a new process: nothing read before
    assert (queries.tab_counts(), queries.token_usage("model").to_dict("records")) == before
    assert len(store.quarantined()) == 2
    store.compact()
    assert all(len(store.files(kind, [day])) == 1 for kind in ("rollups", "token_rollups") for day in store.days())
    assert (LogQueries(store).tab_counts(), LogQueries(store).token_usage("model").to_dict("records")) == before


def test_a_garbage_pending_file_does_not_stop_ingest_compaction_or_retention(tmp_path):
    root = tmp_path / "logs"
    early = tmp_path / "early.jsonl"  # steps whose start has not come: they wait in pending
    early.write_text("\n".join(json.dumps(
        {"type": "step_finished", "execution_id": f"late-{i}", "index": 0, "node_id": "n", "node_name": "N",
         "node_type": "send_message", "status": "completed", "started_at": "2026-11-20T10:00:00Z",
         "finished_at": "2026-11-20T10:00:01Z"}) for i in range(3)) + "\n")
    flowlogs("ingest", str(early), root=root)
    store = Store(root)
    (pending,) = store.files("pending_steps")
    Path(pending).write_text("garbage")
    start = tmp_path / "start.jsonl"
    start.write_text(json.dumps({"type": "execution_started", "execution_id": "late-0", "flow_id": "f",
                                 "flow_name": "Late", "at": "2026-11-20T09:59:59Z",
                                 "trigger": {"type": "manual"}}) + "\n")
    flowlogs("ingest", str(start), root=root)
    for command in (["compact"], ["retention"], ["counts"]):
        flowlogs(*command, root=root)
    assert [entry["file"] for entry in store.quarantined()] == [pending]
    assert LogQueries(store).execution("late-0")["flow_name"] == "Late"
