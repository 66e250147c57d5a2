"""A corrupt or foreign file in a partition: every other execution stays visible, the file
is moved to quarantine/ and reported, not silently dropped."""

import json
import subprocess
import sys

from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.store import Store


def test_corrupt_files_are_moved_aside_and_reported(tmp_path):
    root = tmp_path / "logs"
    generate_history(root, days=3, per_day=20, seed=4)
    before = LogQueries(root).tab_counts()
    tokens = LogQueries(root).token_usage("model").total_tokens.sum()
    day = sorted((root / "executions").iterdir())[0].name
    (root / "executions" / day / "part-garbage.parquet").write_text("not parquet at all")
    (root / "steps" / day / "part-cut.parquet").write_bytes(b"PAR1" + b"\x00" * 64)  # cut short

    queries = LogQueries(root)
    assert queries.tab_counts() == before
    assert queries.token_usage("model").total_tokens.sum() == tokens
    moved = Store(root).quarantined()
    assert sorted(m["file"].rsplit("/", 1)[1] for m in moved) == ["part-cut.parquet", "part-garbage.parquet"]
    for entry in moved:
        assert (root / "quarantine").exists() and entry["reason"]
        assert not (root / entry["file"]).exists()
    left = [p for p in root.rglob("part-*.parquet") if "quarantine" not in p.parts and p.name in
            ("part-garbage.parquet", "part-cut.parquet")]
    assert left == []  # gone from the data, kept aside in quarantine/

    cli = [sys.executable, "-m", "dashboard.cli", "quarantine", "--json", "--data", str(root)]
    listed = json.loads(subprocess.run(cli, check=True, capture_output=True, text=True).stdout)
    assert len(listed) == 2


def test_compaction_goes_on_past_a_corrupt_file(tmp_path):
    root = tmp_path / "logs"
    generate_history(root, days=2, per_day=20, seed=5)
    before = LogQueries(root).tab_counts()
    day = sorted((root / "steps").iterdir())[-1].name
    (root / "steps" / day / "part-x.parquet").write_text("{}")
    Store(root).compact()
    assert LogQueries(root).tab_counts() == before
    assert len(Store(root).quarantined()) == 1
