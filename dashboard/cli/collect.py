"""`flowlogs collect` and `flowlogs keys`: the collector's commands (dashboard/collector/).

Registered on the `flowlogs` app by dashboard/cli/__init__.py; `keys_app` holds the `keys` subcommands."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from ..audit import cli_user
from ..events import MAX_FIELD_BYTES, MIN_FIELD_BYTES
from .options import DEFAULT_DATA, AsJson, DataDir, open_data
from .output import emit_json, err, escape, fail, print_table

keys_app = typer.Typer(help="Ingest keys of the collector: one per engine host, sent as Authorization: Bearer KEY.",
                       no_args_is_help=True)


def collect(data: DataDir = DEFAULT_DATA,
            address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")]
            = "127.0.0.1",
            port: Annotated[int, typer.Option(help="Port (4318 is OTLP/HTTP's; 0 picks a free one).")] = 4318,
            max_body_bytes: Annotated[int, typer.Option(
                min=1024, help="Largest batch, compressed or not; larger ones get 413.")] = 8 * 1024 * 1024,
            max_pending: Annotated[int, typer.Option(
                min=1, help="Batches read or waiting at a time; more get 429 with Retry-After.")] = 32,
            read_timeout: Annotated[float, typer.Option(
                min=0.1, help="Seconds a client has to send its headers and whole body.")] = 30.0,
            max_field_bytes: Annotated[int, typer.Option(
                envvar="FLOWLOGS_MAX_FIELD_BYTES", min=MIN_FIELD_BYTES,
                help="Payload fields over this many UTF-8 bytes are stored cut, with a warning.")] = MAX_FIELD_BYTES,
            merge_interval: Annotated[float, typer.Option(
                min=0, help="Seconds between merges of today's small files; 0 when a dashboard server "
                            "of the same location does it.")] = 5.0):
    """Take events over HTTP: POST /v1/events (JSON lines of the event contract) and POST /v1/traces
    (OpenTelemetry, OTLP/HTTP), each with an ingest key (flowlogs keys add NAME)."""
    from ..collector import CollectorService, IngestKeys, Limits, Options

    logs = open_data(data)
    options = Options(limits=Limits(max_body_bytes=max_body_bytes, read_timeout=read_timeout),
                      max_pending=max_pending, max_field_bytes=max_field_bytes, merge_interval=merge_interval or None)
    try:
        service = CollectorService(logs.store, address=address, port=port, options=options).start()
    except OSError as exc:
        fail(f"cannot listen on {address}:{port}: {exc.strerror or exc}", 2)
    active = sum(k.active for k in IngestKeys(logs.store).list())
    err.print(f"collecting into {escape(logs.store.root)} at {service.url}/v1/events and {service.url}/v1/traces "
              f"({active} active ingest keys{'' if active else ': add one with flowlogs keys add NAME'}; "
              "Ctrl+C to stop)", highlight=False, soft_wrap=True)  # one line: scripts read the address from it
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    err.print("stopping: answering the batches in flight")
    service.stop()


@keys_app.command("add")
def keys_add(name: Annotated[str, typer.Argument(help="Who the key is for, e.g. the engine host: engine-eu-1.")],
             data: DataDir = DEFAULT_DATA):
    """Make a key for NAME and print it (once: only its hash is kept)."""
    from ..collector import IngestKeyError

    logs = open_data(data)
    try:
        key = _keys(logs).add(name, by=cli_user())
    except IngestKeyError as exc:
        fail(str(exc))
    logs.audit.record(user=cli_user(), role="admin", via="cli", action="add ingest key", outcome="added", key=name)
    print(key)
    err.print(f"added ingest key {escape(name)}: shown this once, keep it in the engine's secrets and send it as "
              "Authorization: Bearer KEY")


@keys_app.command("list")
def keys_list(data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """Every key added: name, fingerprint (start of its hash), when and by whom, revoked or active."""
    rows = [{"name": k.name, "fingerprint": k.fingerprint, "added_at": k.added_at, "added_by": k.added_by,
             "status": "active" if k.active else "revoked", "revoked_at": k.revoked_at}
            for k in _keys(open_data(data)).list()]
    if as_json:
        return emit_json(rows)
    if not rows:
        err.print("no ingest keys; add one with flowlogs keys add NAME")
        return
    print_table(rows, ["name", "status", "fingerprint", "added_at", "added_by", "revoked_at"], ids=("name",),
                optional=("added_by", "fingerprint", "revoked_at"))


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name, as flowlogs keys list shows it.")],
                data: DataDir = DEFAULT_DATA):
    """Revoke NAME's key: every collector of the location refuses it within a second."""
    from ..collector import IngestKeyError

    logs = open_data(data)
    try:
        _keys(logs).revoke(name, by=cli_user())
    except IngestKeyError as exc:
        fail(str(exc))
    logs.audit.record(user=cli_user(), role="admin", via="cli", action="revoke ingest key", outcome="revoked",
                      key=name)
    err.print(f"revoked ingest key {escape(name)}")


def _keys(logs):
    from ..collector import IngestKeys

    return IngestKeys(logs.store)
