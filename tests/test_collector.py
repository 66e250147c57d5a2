"""The collector over real HTTP on 127.0.0.1: POST /v1/events answers per line like `flowlogs ingest`,
stores what it acknowledges exactly once (retries included), refuses what it must (keys, size, a full
queue, slow bodies), and several collectors share one data location. OTLP: tests/test_collector_otlp.py."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from collecting import FLOWLOGS, collector_process, jsonl, post, running_collector, stored_counts
from factories import finished, live_rows, started, step

from dashboard.collector import IngestKeys
from dashboard.collector.receipts import Receipts
from dashboard.logs import open_logs

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


def execution(x: str, at: dt.datetime = NOW, steps: int = 2, status: str = "completed") -> list[dict]:
    """A whole execution: its start, AI steps (one token each way, so token reports count them) and finish."""
    return ([started(x, at)] + [step(x, i, at + dt.timedelta(seconds=i), tokens=(1, 1)) for i in range(steps)]
            + [finished(x, at + dt.timedelta(seconds=steps + 1), status)])


def test_per_line_answers_rejections_and_gzip_and_what_is_acknowledged_is_stored(tmp_path):
    with running_collector(str(tmp_path / "logs")) as (service, logs, key):
        events = execution("run-1")
        lines = jsonl(events[:2]) + '{"type": "nope"}\n' + "not json\n" + jsonl(events[2:])
        answer = post(f"{service.url}/v1/events", lines, key, Content_Type="application/x-ndjson")
        assert answer.status_code == 200
        body = answer.json()
        assert body["accepted"] == 4 and body["replayed"] is False
        assert [r["message"] for r in body["rejected"]] == [
            "line 3: type: invalid value 'nope'",
            "line 4: not valid JSON (JSON is malformed: invalid character (byte 4))"]
        assert body["rejected"][0] == {"line": 3, "field": "type", "reason": "invalid value 'nope'",
                                       "message": "line 3: type: invalid value 'nope'"}

        zipped = gzip.compress(jsonl(execution("run-2", status="failed")).encode())
        answer = post(f"{service.url}/v1/events", zipped, key, Content_Encoding="gzip")
        assert answer.status_code == 200 and answer.json()["accepted"] == 4 and answer.json()["rejected"] == []

        # answered means committed: a fresh reader of the location sees both executions at once
        fresh = open_logs(logs.store.root)
        assert stored_counts(fresh) == {"tabs": {"all": 2, "running": 0, "failed": 1, "completed": 1}, "ai_steps": 4}
        assert fresh.queries.execution("run-1")["steps"][1]["ai_reply"] == "Your order ships tomorrow."

        bad = post(f"{service.url}/v1/events", b"\x1f\x8b not gzip", key, Content_Encoding="gzip")
        assert bad.status_code == 400 and "not valid gzip" in bad.json()["error"]
        assert post(f"{service.url}/v1/events", b"x", key, Content_Encoding="br").status_code == 415
        assert requests.get(f"{service.url}/v1/events", timeout=10).status_code == 405


def test_a_retried_batch_is_stored_once(tmp_path):
    with running_collector(str(tmp_path / "logs")) as (service, logs, key):
        body = jsonl(execution("run-1"))
        first = post(f"{service.url}/v1/events", body, key)
        again = post(f"{service.url}/v1/events", body, key)
        assert first.json()["accepted"] == again.json()["accepted"] == 4
        assert again.json()["replayed"] is True
        # with an Idempotency-Key the body may differ in bytes only if it is the same batch: else 422
        keyed = jsonl(execution("run-2"))
        assert post(f"{service.url}/v1/events", keyed, key, Idempotency_Key="b-7").json()["accepted"] == 4
        assert post(f"{service.url}/v1/events", keyed, key, Idempotency_Key="b-7").json()["replayed"] is True
        other = post(f"{service.url}/v1/events", jsonl(execution("run-3")), key, Idempotency_Key="b-7")
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]
        # the same batch twice at once: one is stored, both are answered
        body = jsonl(execution("run-4"))
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(post(f"{service.url}/v1/events", body, key)))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.json()["accepted"] for a in answers) == [4] * 4
        assert stored_counts(logs)["tabs"]["all"] == 3
        assert live_rows(logs.store.root) == {"executions": 6, "steps": 6}  # a start and a finish row each


def test_no_key_a_wrong_key_or_a_revoked_key_stores_nothing(tmp_path):
    with running_collector(str(tmp_path / "logs")) as (service, logs, key):
        body = jsonl(execution("run-1"))
        for given in (None, "", "flk_not-a-key", key + "x", key.upper()):
            answer = post(f"{service.url}/v1/events", body, given)
            assert answer.status_code == 401, given
            assert "Bearer" in answer.headers["WWW-Authenticate"] and "ingest key" in answer.json()["error"]
        assert requests.post(f"{service.url}/v1/events", data=body, headers={"Authorization": f"Basic {key}"},
                             timeout=10).status_code == 401
        IngestKeys(logs.store).revoke("engine-1")
        assert post(f"{service.url}/v1/events", body, key).status_code == 401
        assert logs.queries.tab_counts()["all"] == 0 and live_rows(logs.store.root) == {}


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path):
    with running_collector(str(tmp_path / "logs"), max_body_bytes=4096) as (service, logs, key):
        big = jsonl(execution("run-1", steps=40))
        assert len(big) > 4096
        declared = post(f"{service.url}/v1/events", big, key)  # Content-Length says so: refused unread
        assert declared.status_code == 413 and "4,096 bytes" in declared.json()["error"]
        pieces = (big[i:i + 1000].encode() for i in range(0, len(big), 1000))
        chunked = requests.post(f"{service.url}/v1/events", data=pieces, headers={"Authorization": f"Bearer {key}"},
                                timeout=10)
        assert chunked.status_code == 413  # no Content-Length: refused once the limit is passed
        bomb = gzip.compress(b"\n" * 3_000_000)  # 3 KB compressed, 3 MB inflated
        assert len(bomb) < 4096
        inflated = post(f"{service.url}/v1/events", bomb, key, Content_Encoding="gzip")
        assert inflated.status_code == 413 and "decompressed" in inflated.json()["error"]
        assert logs.queries.tab_counts()["all"] == 0
        assert post(f"{service.url}/v1/events", jsonl(execution("run-2")), key).status_code == 200


def _hold_a_slot(url: str, key: str) -> socket.socket:
    """A client that sends its headers and part of its body, then nothing: it holds its place in the queue."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Length: 1000\r\n\r\n{{\"type\":".encode())
    return sock


def test_a_full_queue_answers_429_and_a_slow_body_times_out(tmp_path):
    with running_collector(str(tmp_path / "logs"), max_pending=1, read_timeout=1.5) as (service, logs, key):
        slow = _hold_a_slot(service.url, key)
        time.sleep(0.3)
        refused = post(f"{service.url}/v1/events", jsonl(execution("run-1")), key)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "Retry-After" in refused.json()["error"]
        slow.settimeout(10)
        started_waiting = time.monotonic()
        assert slow.recv(1024) == b""  # closed by the server once the read timeout passed
        assert time.monotonic() - started_waiting < 5
        slow.close()
        assert post(f"{service.url}/v1/events", jsonl(execution("run-1")), key).status_code == 200
        assert logs.queries.tab_counts()["all"] == 1


@pytest.mark.slow
def test_two_collector_processes_on_one_location_lose_and_double_nothing(location: str, subprocess_env: dict):
    logs = open_logs(location)
    key = IngestKeys(logs.store).add("engine-1")
    batches = [jsonl([e for k in range(5) for e in execution(f"b{b}-x{k}", NOW + dt.timedelta(minutes=b))])
               for b in range(8)]
    with collector_process(location, subprocess_env) as first, collector_process(location, subprocess_env) as second:
        def client(part: int) -> None:
            for b in range(part, len(batches), 4):
                urls = (first, second) if b % 2 else (second, first)
                assert post(f"{urls[0]}/v1/events", batches[b], key).json()["accepted"] == 20
                # a client that got no answer sends the batch again, here to the other collector
                assert post(f"{urls[1]}/v1/events", batches[b], key).json()["replayed"] is True

        with ThreadPoolExecutor(4) as pool:  # a client's failed assertion fails the test, named
            for done in [pool.submit(client, part) for part in range(4)]:
                done.result()
    counts = stored_counts(open_logs(location))
    assert counts == {"tabs": {"all": 40, "running": 0, "failed": 0, "completed": 40}, "ai_steps": 80}
    assert live_rows(location) == {"executions": 80, "steps": 80}


def test_a_receipt_another_collector_just_recorded_is_found_at_once(location: str):
    """A retry sent to a second collector right after the first one answered is a replay, even when the
    second looked at the receipts a moment before (on object storage, looks are otherwise shared for
    REMOTE_FRESH_SECONDS; CI once stored a retried batch again that way)."""
    first, second = Receipts(open_logs(location).store), Receipts(open_logs(location).store)
    second.record([("warm-up", "sha", {"accepted": 0})])
    assert second.find(["b1"]) == {}  # the second collector has just looked
    first.record([("b1", "sha-1", {"accepted": 20})])
    assert second.find(["b1"]) == {"b1": ("sha-1", {"accepted": 20})}


def test_the_openapi_document_names_both_endpoints_their_auth_and_errors(tmp_path):
    with running_collector(str(tmp_path / "logs")) as (service, _, _):
        answer = requests.get(f"{service.url}/v1/openapi.json", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    doc = json.loads(answer.text)
    assert doc["openapi"].startswith("3.") and {"/v1/events", "/v1/traces"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["ingestKey"] == {**doc["components"]["securitySchemes"]["ingestKey"],
                                                                 "type": "http", "scheme": "bearer"}
    for path in ("/v1/events", "/v1/traces"):
        assert {"200", "400", "401", "413", "415", "422", "429", "503"} <= set(doc["paths"][path]["post"]["responses"])


def test_keys_add_list_revoke_through_the_command_line(tmp_path):
    root = str(tmp_path / "logs")

    def flowlogs(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(FLOWLOGS), *args, "--data", root], capture_output=True, text=True, timeout=120)

    added = flowlogs("keys", "add", "engine-eu-1")
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("flk_") and len(key) > 40 and "shown this once" in added.stderr
    assert key not in json.dumps(open_logs(root).audit.entries())  # only its hash is kept, anywhere
    again = flowlogs("keys", "add", "engine-eu-1")
    assert again.returncode == 1 and "already has an active key" in again.stderr
    assert flowlogs("keys", "add", "two words").returncode == 1
    listed = json.loads(flowlogs("keys", "list", "--json").stdout)
    assert [(k["name"], k["status"]) for k in listed] == [("engine-eu-1", "active")]
    with running_collector(root) as (service, logs, _):
        assert post(f"{service.url}/v1/events", jsonl(execution("run-1")), key).status_code == 200
        revoked = flowlogs("keys", "revoke", "engine-eu-1")
        assert revoked.returncode == 0, revoked.stderr
        assert post(f"{service.url}/v1/events", jsonl(execution("run-2")), key).status_code == 401
        assert logs.queries.tab_counts()["all"] == 1
    listed = json.loads(flowlogs("keys", "list", "--json").stdout)
    assert [(k["name"], k["status"]) for k in listed if k["name"] == "engine-eu-1"] == [("engine-eu-1", "revoked")]
    assert flowlogs("keys", "revoke", "engine-eu-1").returncode == 1
    actions = [e["action"] for e in open_logs(root).audit.entries()]
    assert actions == ["add ingest key", "revoke ingest key"]


def test_idempotency_keys_of_two_engines_never_meet(tmp_path):
    with running_collector(str(tmp_path / "logs")) as (service, logs, key):
        other = IngestKeys(logs.store).add("engine-2")
        assert post(f"{service.url}/v1/events", jsonl(execution("a")), key, Idempotency_Key="1").status_code == 200
        answer = post(f"{service.url}/v1/events", jsonl(execution("b")), other, Idempotency_Key="1")
        assert answer.status_code == 200 and answer.json()["accepted"] == 4
        assert logs.queries.tab_counts()["all"] == 2


@pytest.mark.slow
def test_flowlogs_serve_collect_takes_events_beside_the_dashboard(tmp_path, subprocess_env):
    root = str(tmp_path / "logs")
    key = IngestKeys(open_logs(root).store).add("engine-1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(FLOWLOGS), "serve", "--data", root, "--port", str(port), "--collect"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=subprocess_env)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/v1/openapi.json", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "flowlogs serve --collect did not start"
            time.sleep(0.3)
        assert post(f"{url}/v1/events", jsonl(execution("run-1")), None).status_code == 401
        assert post(f"{url}/v1/events", jsonl(execution("run-1")), key).json()["accepted"] == 4
        assert requests.get(f"{url}/", timeout=30).status_code == 200  # the dashboard still answers
    finally:
        server.terminate()
        server.wait(60)
    assert open_logs(root).queries.tab_counts()["all"] == 1
