"""Hardening of the data side (issue 6), against real files:

- oversized payload fields are stored cut at a UTF-8 boundary, with a warning that says how much;
  identity fields that are too long stay a rejection; an over-long line is rejected unread;
- a full disk or a read-only data directory fails the flush with WriteFailed, which names the
  directory and the OS error, keeps every event it did not store, and a retry stores each once;
- no id, flow name or node name ever becomes part of a file path.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import pytest
from cli_inproc import run_cli
from factories import UTC, finished, line, live_rows, parsed, started, step, stray_files
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.events import MAX_FIELD_BYTES, MIN_FIELD_BYTES, EventError, parse_event
from dashboard.ingest import IngestReport, OversizedLine, ingest_lines, ingest_stream, read_lines
from dashboard.json_values import parse_json_field
from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.truncation import cut_utf8, limit_payload
from dashboard.writer import WriteFailed, Writer

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
MB = 1_000_000


def flowlogs(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`flowlogs` run in this process (tests/cli_inproc.py); the 300 MB stdin test runs a real process."""
    return run_cli(args, input=stdin, env=env)


def ingest(root: Path, events: list[dict], **writer_options) -> IngestReport:
    with Writer(Store(root), flush_interval=None, **writer_options) as writer:
        return ingest_lines([line(e).encode() for e in events], writer)


def note(field: str, total: int, kept: int, limit: int = MAX_FIELD_BYTES) -> str:
    return f"{field} truncated: {total - kept:,} of {total:,} bytes cut (limit {limit:,})"


def utf8_len(text: str) -> int:
    return len(text.encode())


# -- oversized payload: cut, with a warning ---------------------------------------------------------------------


def test_payload_fields_over_1_mb_are_stored_cut_at_a_character_boundary_with_a_warning(data_root: Path):
    reply = "🙂 ok " * 300_000  # 2.7 MB of 4-byte and 1-byte characters: a cut must not split a smiley
    prompt = "é" * 600_000  # 1.2 MB of 2-byte characters
    error = "E" * (MAX_FIELD_BYTES + 1)  # one byte over
    payload = {"rows": [{"name": f"contact {k}", "note": 'say "hi"\n'} for k in range(40_000)]}  # 1.9 MB of JSON
    small = {"reply": "fits"}
    events = [
        started("big", T0, flow_name="Big payloads"),
        step("big", 0, T0, tokens=(10, 5), system_prompt=prompt, ai_reply=reply, status="failed", error=error,
             input=payload, output=small, warnings=["w" * (MAX_FIELD_BYTES + 10), "a short warning"]),
        finished("big", T0 + dt.timedelta(seconds=5), "failed", error="x" * (3 * MAX_FIELD_BYTES)),
    ]
    report = ingest(data_root, events)
    assert report.ok and report.accepted == 3 and report.truncated == 6

    record = LogQueries(Store(data_root)).execution("big")
    (stored,) = record["steps"]
    payload_text = json.dumps(payload)
    for field, original in (("ai_reply", reply), ("system_prompt", prompt), ("error", error)):
        value = stored[field]
        assert original.startswith(value) and utf8_len(value) <= MAX_FIELD_BYTES
        assert utf8_len(original[: len(value) + 1]) > MAX_FIELD_BYTES  # as much kept as fits
        assert note(field, utf8_len(original), utf8_len(value)) in stored["warnings"]
    assert stored["user_prompt"] == "Where is my order?"  # under the limit: untouched

    # Cut JSON is no JSON: it is kept as a JSON string of the first bytes of its text, so it always parses.
    kept = parse_json_field(stored["input"])
    assert isinstance(kept, str) and payload_text.startswith(kept) and len(stored["input"].encode()) <= MAX_FIELD_BYTES
    assert len(msgspec.json.encode(payload_text[: len(kept) + 1])) > MAX_FIELD_BYTES  # as much kept as fits
    assert note("input", len(payload_text), utf8_len(kept)) + "; kept as a JSON string of its text" \
        in stored["warnings"]
    assert parse_json_field(stored["output"]) == small

    warnings = list(stored["warnings"])
    assert warnings[1] == "a short warning" and utf8_len(warnings[0]) == MAX_FIELD_BYTES
    assert note("warnings[0]", MAX_FIELD_BYTES + 10, MAX_FIELD_BYTES) in warnings

    # An execution has no warnings: its error carries the note itself, within the limit.
    assert re.fullmatch(r"x+ … \[error truncated: [\d,]+ of 3,000,000 bytes cut \(limit 1,000,000\)\]",
                        record["error"])
    assert utf8_len(record["error"]) <= MAX_FIELD_BYTES

    # The queries and the command line read the cut values like any other.
    failures = LogQueries(Store(data_root)).failures()
    assert failures.execution_id.tolist() == ["big"]
    shown = flowlogs("show", "big", "--json", "--data", str(data_root))
    assert shown.returncode == 0, shown.stderr
    step_json = json.loads(shown.stdout)["steps"][0]
    assert step_json["input"] == kept and step_json["output"] == small


def test_the_field_limit_is_set_per_writer_and_per_recorder(tmp_path: Path):
    limit = 4096
    text = "ü" * 5000  # 10,000 bytes
    assert ingest(tmp_path / "writer", [started("w", T0), step("w", 0, T0, error=text)], max_field_bytes=limit).ok
    (stored,) = LogQueries(Store(tmp_path / "writer")).execution("w")["steps"]
    assert stored["error"] == "ü" * 2048 and note("error", 10_000, 4096, limit) in stored["warnings"]

    with Recorder.open(tmp_path / "recorder", max_field_bytes=limit) as recorder:
        with recorder.execution("Recorded", execution_id="r") as run:
            with run.step("AI Response", "ai_response", input={"text": text}) as ai:
                ai.ai(model="gpt-4o-mini", user_prompt="short", reply=text, prompt_tokens=3, completion_tokens=4)
                ai.warn("model was slow")
    (recorded,) = LogQueries(Store(tmp_path / "recorder")).execution("r")["steps"]
    assert recorded["ai_reply"] == "ü" * 2048 and recorded["user_prompt"] == "short"
    assert recorded["warnings"][0] == "model was slow"
    assert [w.split(":")[0] for w in recorded["warnings"][1:]] == ["ai_reply truncated", "input truncated"]
    assert parse_json_field(recorded["input"]).startswith('{"text":"üü')

    with pytest.raises(ValueError, match="at least"):
        Writer(Store(tmp_path / "x"), max_field_bytes=MIN_FIELD_BYTES - 1)


def test_cli_ingest_takes_the_field_limit_as_an_option_or_from_the_environment(tmp_path: Path):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(line(e) for e in [started("c", T0), step("c", 0, T0, ai_reply="r" * 5000)]) + "\n")

    by_option = flowlogs("ingest", "--data", str(tmp_path / "a"), "--max-field-bytes", "1000", str(events))
    assert by_option.returncode == 0, by_option.stderr
    assert "cut 1 payload fields over 1,000 bytes" in by_option.stderr
    assert LogQueries(Store(tmp_path / "a")).execution("c")["steps"][0]["ai_reply"] == "r" * 1000

    by_env = flowlogs("ingest", "--data", str(tmp_path / "b"), str(events),
                      env={**os.environ, "FLOWLOGS_MAX_FIELD_BYTES": "2000"})
    assert by_env.returncode == 0, by_env.stderr
    assert LogQueries(Store(tmp_path / "b")).execution("c")["steps"][0]["ai_reply"] == "r" * 2000

    too_small = flowlogs("ingest", "--data", str(tmp_path / "c"), "--max-field-bytes", "10", str(events),
                         env={**os.environ, "COLUMNS": "200"})
    assert too_small.returncode == 2 and "256" in too_small.stderr  # typer's range check says the minimum


def test_identity_fields_over_their_limit_are_rejected_not_cut(data_root: Path):
    cases = {
        "execution_id": started("i" * 201, T0),
        "flow_name": started("ok-1", T0, flow_id="f", flow_name="F" * 501),
        "flow_id": started("ok-2", T0, flow_id="f" * 201),
        "node_name": step("ok-3", 0, T0, node_name="N" * 501),
        "node_id": step("ok-3", 0, T0, node_id="n" * 201),
        "model": step("ok-3", 0, T0, model="m" * 501),
    }
    for field, event in cases.items():
        with pytest.raises(EventError) as rejected:
            parse_event(line(event))
        assert rejected.value.field == field and re.search(r"length <= (200|500)", rejected.value.reason)
    report = ingest(data_root, list(cases.values()))
    assert [r.field for r in report.rejected] == list(cases) and report.accepted == 0


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=300), limit=st.integers(0, 1200))
def test_a_cut_ends_on_a_character_boundary_and_keeps_all_that_fits(text: str, limit: int):
    data = text.encode()
    kept = cut_utf8(data, limit).decode()  # decodes: no character is split
    assert text.startswith(kept) and len(kept.encode()) <= limit
    if kept != text:
        assert len(text[: len(kept) + 1].encode()) > limit


@settings(max_examples=150, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                          lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=6),
                          max_leaves=60),
       limit=st.integers(MIN_FIELD_BYTES, 700))
def test_cut_json_is_a_json_string_within_the_limit(value, limit: int):
    text = json.dumps(value)  # as factories.line renders it inside the event
    event, notes = limit_payload(parsed(step("j", 0, T0, input=value)), limit)
    stored = bytes(event.input)
    assert len(stored) <= max(limit, len(text.encode()))
    if notes:
        kept = msgspec.json.decode(stored)
        assert isinstance(kept, str) and text.startswith(kept)
        assert notes == [note("input", len(text.encode()), len(kept.encode()), limit)
                         + "; kept as a JSON string of its text"]
        assert event.warnings == notes
    else:
        assert msgspec.json.decode(stored) == value


# -- over-long lines: rejected without being held in memory ------------------------------------------------------


class GeneratedStream(io.RawIOBase):
    """A byte stream produced piece by piece as it is read: a huge line that never exists whole."""

    def __init__(self, pieces: Iterator[bytes]):
        self.pieces, self.buffer = pieces, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self.buffer:
            self.buffer = next(self.pieces, b"")
            if not self.buffer:
                return 0
        size = min(len(target), len(self.buffer))
        target[:size], self.buffer = self.buffer[:size], self.buffer[size:]
        return size


def huge_line_pieces(before: list[str], size: int, after: list[str]) -> Iterator[bytes]:
    yield "".join(f"{text}\n" for text in before).encode()
    chunk = b'{"type": "execution_started", "flow_name": "' + b"x" * (MB - 44)
    sent = 0
    while sent < size:
        piece = chunk[: size - sent]
        sent += len(piece)
        yield piece
    yield b"\n" + "".join(f"{text}\n" for text in after).encode()


def test_a_line_over_the_cap_is_rejected_and_read_away_in_bounded_memory(data_root: Path):
    cap, huge = MB, 200 * MB
    before = [line(started("before", T0))]
    after = [line(step("before", 0, T0)), line(finished("before", T0 + dt.timedelta(seconds=2)))]

    tracemalloc.start()
    try:
        lines = list(read_lines(io.BufferedReader(GeneratedStream(huge_line_pieces(before, huge, after))), cap))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [len(x) if isinstance(x, OversizedLine) else x for x in lines] == \
        [before[0].encode() + b"\n", huge, after[0].encode() + b"\n", after[1].encode() + b"\n"]
    assert peak < 8 * cap, f"reading a {huge:,}-byte line peaked at {peak:,} bytes"  # a few copies of the cap

    with Writer(Store(data_root), flush_interval=None) as writer:
        stream = io.BufferedReader(GeneratedStream(huge_line_pieces(before, huge, after)))
        report = ingest_stream(stream, writer, max_line_bytes=cap)
    assert report.accepted == 3
    assert [str(r) for r in report.rejected] == [f"line 2: line is {huge:,} bytes, over the limit of {cap:,}"]
    assert LogQueries(Store(data_root)).execution("before")["status"] == "completed"

    exact = [b"a" * cap, b"b" * (cap + 1), b"c" * cap + b"\n"]  # the line break does not count
    assert [len(x) for x in read_lines(io.BytesIO(b"\n".join(exact)), cap)] == [cap + 1, cap + 1, cap + 1]
    assert [type(x) for x in read_lines(io.BytesIO(b"\n".join(exact)), cap)] == [bytes, OversizedLine, bytes]


def test_cli_ingest_rejects_a_300_mb_line_from_stdin_without_holding_it(tmp_path: Path):
    """The real command, fed through a pipe; its peak memory is measured by a parent that runs only it."""
    huge = 300 * MB
    before = [line(started("piped", T0))]
    after = [line(finished("piped", T0 + dt.timedelta(seconds=1)))]
    exe = shutil.which("flowlogs")
    command = [exe] if exe else [sys.executable, "-c", "from dashboard.cli import app; app()"]
    measure = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[2:]).returncode; "
               "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(code)")

    def run(data: Path, pieces: Iterator[bytes]) -> tuple[subprocess.CompletedProcess, int]:
        rss_file, out_file, err_file = (data.with_suffix(suffix) for suffix in (".rss", ".out", ".err"))
        with open(out_file, "wb") as out, open(err_file, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", measure, str(rss_file), *command, "ingest",
                                     "--data", str(data), "--max-line-bytes", str(MB), "-"],
                                    stdin=subprocess.PIPE, stdout=out, stderr=err)
            with proc.stdin:
                for piece in pieces:
                    proc.stdin.write(piece)
            proc.wait(timeout=300)
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out_file.read_text(), err_file.read_text())
        return result, int(rss_file.read_text()) * 1024

    small, small_rss = run(tmp_path / "small", huge_line_pieces(before, 10, after))
    big, big_rss = run(tmp_path / "big", huge_line_pieces(before, huge, after))
    assert small.returncode == big.returncode == 1  # the over-long line was rejected
    assert f"line 2: line is {huge:,} bytes, over the limit of {MB:,}" in big.stderr.splitlines()
    assert LogQueries(Store(tmp_path / "big")).execution("piped")["status"] == "completed"
    assert big_rss < small_rss + 64 * MB, f"peak RSS {big_rss:,} bytes against {small_rss:,} for a small input"
    print(f"flowlogs ingest peak RSS: {small_rss / MB:.0f} MB on a small input, "
          f"{big_rss / MB:.0f} MB with a {huge / MB:.0f} MB line")


# -- full disk, read-only directory ---------------------------------------------------------------------------------


def payload_events(days: int, steps: int, payload_bytes: int, seed: int = 1) -> list[dict]:
    """One execution a day, its steps carrying incompressible input: files too large for a small disk."""
    rng = random.Random(seed)
    events = []
    for d in range(days):
        x, at = f"run-{d}", T0 + dt.timedelta(days=d)
        events.append(started(x, at, flow_name=f"Flow {d % 2}"))
        events += [step(x, i, at + dt.timedelta(seconds=i), input={"blob": rng.randbytes(payload_bytes // 2).hex()})
                   for i in range(steps)]
        events.append(finished(x, at + dt.timedelta(minutes=1), "completed", messages_sent=d))
    return events


def rows_on_disk(root: Path) -> dict[str, int]:
    """Rows in the live files of each table, pending included: a duplicate would show here."""
    return live_rows(root)


def assert_stored_exactly(root: Path, events: list[dict]) -> None:
    steps = sum(e["type"] == "step_finished" for e in events)
    assert rows_on_disk(root) == {"executions": len(events) - steps, "steps": steps}, "lost or duplicated rows"
    queries = LogQueries(Store(root))
    runs = [e for e in events if e["type"] == "execution_started"]
    assert queries.tab_counts()["completed"] == len(runs)
    for run in runs:
        record = queries.execution(run["execution_id"])
        assert [s["index"] for s in record["steps"]] == list(range(len(record["steps"])))
        assert len(record["steps"]) == sum(e.get("execution_id") == run["execution_id"] for e in events) - 2
    assert stray_files(root) == [], "a failed flush left a file behind"


@contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at path (needs root with CAP_SYS_ADMIN, as on this machine)."""
    path.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        reason = "not root" if mounted is None else mounted.stderr.strip()
        pytest.skip(f"cannot mount a small tmpfs here ({reason}); "
                    "test_a_file_size_limit_fails_the_flush... covers the full-disk path with RLIMIT_FSIZE")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Take every free block of the file system: large pieces, then page by page."""
    with open(path, "wb", buffering=0) as fh:
        for piece in (64 * 1024, 4096, 512):
            block = os.urandom(piece)
            while True:
                try:
                    fh.write(block)
                except OSError:
                    break


def test_a_full_disk_fails_the_flush_keeps_the_events_and_retries_store_each_once(tmp_path: Path):
    with small_tmpfs(tmp_path / "disk", "2m") as disk:
        root = disk / "logs"
        events = payload_events(days=6, steps=12, payload_bytes=3000)
        writer = Writer(Store(root), flush_interval=None, max_rows=1_000_000)
        filler = disk / "filler"
        fill(filler)
        for event in events:
            writer.write(parsed(event))

        with pytest.raises(WriteFailed) as failed:
            writer.flush()
        message = str(failed.value)
        assert f"could not write to the data directory {root}: " in message
        assert "No space left on device" in message and f"{len(events):,} events kept for the next flush" in message
        assert failed.value.kept == writer.buffered() == len(events)
        assert not rows_on_disk(root)

        # Free the disk a little at a time: each retry stores what fits and keeps the rest.
        failures, partial = 0, 0
        while True:
            os.truncate(filler, max(0, filler.stat().st_size - 24 * 1024))
            before = writer.buffered()
            try:
                writer.flush()
                break
            except WriteFailed as exc:
                failures += 1
                assert exc.kept == writer.buffered() > 0 and "No space left on device" in str(exc)
                partial += writer.buffered() < before
                on_disk = sum(rows_on_disk(root).values())
                assert on_disk + writer.buffered() == len(events), "a stored row is still buffered, or one is lost"
        assert writer.buffered() == 0 and failures >= 2 and partial >= 1
        assert_stored_exactly(root, events)
        writer.close()


def test_cli_ingest_on_a_full_disk_says_so_and_the_same_ingest_later_stores_everything(tmp_path: Path):
    events = payload_events(days=3, steps=10, payload_bytes=3000, seed=2)
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(line(e) for e in events) + "\n")
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        root = disk / "logs"
        fill(disk / "filler")
        result = flowlogs("ingest", "--data", str(root), str(source))
        assert result.returncode == 1
        said = " ".join(result.stderr.split())  # the console wraps long lines
        assert f"could not write to the data directory {root}: " in said and "No space left on device" in said
        (disk / "filler").unlink()
        again = flowlogs("ingest", "--data", str(root), str(source))
        assert again.returncode == 0, again.stderr
        assert_stored_exactly(root, events)


def test_a_read_only_data_directory_fails_the_flush_and_keeps_the_events(tmp_path: Path):
    first = payload_events(days=2, steps=3, payload_bytes=200)
    later = [started("late", T0), step("late", 0, T0), finished("late", T0 + dt.timedelta(seconds=1))]
    later += [step("run-1", 3, T0 + dt.timedelta(days=1))]  # a step of an execution stored before
    with small_tmpfs(tmp_path / "disk", "16m") as disk:
        root = disk / "logs"
        writer = Writer(Store(root), flush_interval=None)
        for event in first:
            writer.write(parsed(event))
        writer.flush()

        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            for event in later:
                writer.write(parsed(event))
            with pytest.raises(WriteFailed) as failed:
                writer.flush()
            assert f"could not write to the data directory {root}: " in str(failed.value)
            assert "Read-only file system" in str(failed.value)
            assert failed.value.kept == writer.buffered() == len(later)
            assert LogQueries(Store(root)).tab_counts()["all"] == 2  # readers go on meanwhile
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        writer.flush()
        assert writer.buffered() == 0
        assert_stored_exactly(root, first + later)
        writer.close()


FILE_SIZE_LIMITED_WRITER = textwrap.dedent("""
    import json, resource, signal, sys
    from dashboard.events import parse_event
    from dashboard.store import Store
    from dashboard.writer import WriteFailed, Writer

    root, source, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, not a kill
    writer = Writer(Store(root), flush_interval=None, max_rows=1_000_000)
    for text in open(source, "rb"):
        writer.write(parse_event(text))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        writer.flush()
        result = {"error": None}
    except WriteFailed as exc:
        result = {"error": str(exc), "kept": exc.kept, "buffered": writer.buffered()}
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # the space comes back
    writer.flush()
    result["after_retry"] = writer.buffered()
    print(json.dumps(result))
""")


def test_a_file_size_limit_fails_the_flush_and_a_retry_stores_each_event_once(tmp_path: Path, subprocess_env):
    """The full-disk path without mounting anything (runs as any user): RLIMIT_FSIZE in the writer's process."""
    events = payload_events(days=4, steps=8, payload_bytes=3000, seed=3)
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(line(e) for e in events) + "\n")
    root = tmp_path / "logs"
    result = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMITED_WRITER, str(root), str(source), "8192"],
                            capture_output=True, text=True, timeout=120, env=subprocess_env)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert f"could not write to the data directory {root}: " in outcome["error"]
    assert "File too large" in outcome["error"]
    assert 0 < outcome["kept"] == outcome["buffered"] <= len(events)
    assert outcome["after_retry"] == 0
    assert_stored_exactly(root, events)


# -- untrusted ids never become paths -----------------------------------------------------------------------------

HOSTILE_NAMES = ["../../x", "/etc/passwd", "a/b", "..", ".", "C:\\x", "a\x00b", "day=2026-11-18", "*.parquet",
                 "~root/.ssh", "%2e%2e%2f", "\\\\server\\share", "con", " ", "ids/../../../../tmp/evil"]

TABLES = (r"(executions|steps|deletions|rollups|token_rollups|failure_rollups|error_rollups"
          r"|pending_executions|pending_steps|audit|quarantined"
          r"|signouts|ingest_keys|receipts)")
DATA_LAYOUT = re.compile(
    rf"(quarantine(/|$))?({TABLES}(/day=\d{{4}}-\d{{2}}-\d{{2}}"
    r"(/(part|compact)-([0-9a-f]{16}-)?[0-9a-f-]{36}\.parquet)?)?)?"
    rf"|{TABLES}/_delta_log(/(\d{{20}}\.(json|checkpoint\.parquet)|_last_checkpoint))?"
    r"|_meta(/horizon)?"
    r"|prices\.toml"
)


def test_untrusted_ids_and_names_are_stored_as_text_and_never_become_paths(tmp_path: Path):
    root = tmp_path / "inside" / "logs"
    events = []
    for k, name in enumerate(HOSTILE_NAMES):
        at = T0 + dt.timedelta(days=k % 3, minutes=k)
        events += [
            started(name, at, flow_id=name, flow_name=name),
            step(name, 0, at, node_id=name, node_name=name, node_type=name, model=name, tokens=None,
                 error=name, warnings=[name], input={name: name}),
            finished(name, at + dt.timedelta(seconds=3), "failed", error=name),
        ]
        events.append(step(f"{name}/pending", 0, at, node_name=name))  # no start: waits in pending/
    assert ingest(root, events).ok
    with Recorder.open(root) as recorder:  # the recorder's own way in
        with recorder.execution(HOSTILE_NAMES[0], flow_id=HOSTILE_NAMES[1], execution_id="../recorded") as run:
            with run.step(HOSTILE_NAMES[2], HOSTILE_NAMES[3], node_id=HOSTILE_NAMES[4]):
                pass

    queries = LogQueries(Store(root))
    for name in HOSTILE_NAMES:
        record = queries.execution(name)
        assert (record["execution_id"], record["flow_id"], record["flow_name"], record["error"]) == (name,) * 4
        (only,) = record["steps"]
        assert (only["node_id"], only["node_name"], only["node_type"], only["model"], only["error"]) == (name,) * 5
        assert list(only["warnings"]) == [name] and parse_json_field(only["input"]) == {name: name}
    assert set(queries.flow_groups().flow_name) == set(HOSTILE_NAMES)
    assert queries.execution("../recorded")["steps"][0]["node_name"] == HOSTILE_NAMES[2]

    # Every management path too: compaction, a delete, the pending rows, retention.
    store = Store(root)
    store.compact()
    store.delete_execution("../../x")
    assert queries.execution("../../x") is None and queries.execution("/etc/passwd") is not None
    store.apply_retention(days=2, today=T0.date() + dt.timedelta(days=2))
    (corrupt,) = store.files("executions", [T0.date() + dt.timedelta(days=2)])
    Path(corrupt).write_bytes(b"PAR1 not parquet")
    assert queries.execution("/etc/passwd")["flow_name"] == "/etc/passwd"  # the read moves the file aside
    (moved,) = store.quarantined()
    assert Path(moved["moved_to"]) == root / "quarantine" / Path(corrupt).relative_to(root)

    inside = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    strays = [p for p in inside if not DATA_LAYOUT.fullmatch(p)]
    assert not strays, f"paths outside the data layout: {strays}"
    assert sorted(p.name for p in tmp_path.rglob("*") if root not in (p, *p.parents)) == ["inside"]
    assert not Path("/tmp/evil").exists()


def test_management_commands_on_a_read_only_or_full_disk_say_what_and_where(tmp_path: Path):
    """compact, retention, delete and clear on a disk that takes no write: one line naming the data
    location and the OS error, exit 1, no traceback; the same commands work once it does again."""
    events = payload_events(days=3, steps=4, payload_bytes=300)
    with small_tmpfs(tmp_path / "disk", "16m") as disk:
        root = disk / "logs"
        assert ingest(root, events).ok
        victim = LogQueries(Store(root)).executions(limit=1).execution_id[0]
        commands = [["delete", victim], ["compact"], ["retention", "--days", "1"], ["clear", "--yes"]]
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            for command in commands:
                result = flowlogs(*command, "--data", str(root))
                said = " ".join(result.stderr.split())
                assert result.returncode == 1, (command, result.stderr)
                assert "Traceback" not in result.stderr and str(root) in said and "Read-only file system" in said, \
                    (command, said)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        for command in commands:
            result = flowlogs(*command, "--data", str(root))
            assert result.returncode == 0, (command, result.stderr)
        assert LogQueries(Store(root)).tab_counts()["all"] == 0
