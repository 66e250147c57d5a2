"""Browser tests: a real server on 127.0.0.1 over real Parquet files, driven by Debian's Chromium.

Servers run as subprocesses on a free port and are stopped at teardown. Requests to any
host but 127.0.0.1/localhost are aborted, so nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from planted import ROOT, Logs, write_logs
from playwright.sync_api import expect

from dashboard.store import Store

# -- servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    data: Path
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(data: Path, log: Path, *, via: str = "serve", cli_args: list[str] = (),
                 env: dict[str, str] | None = None) -> Server:
    """`dashboard.server.serve` (what `flowlogs serve` runs), `panel serve dashboard/app.py`, or
    `flowlogs serve` itself (via="cli", with `cli_args` such as --users and `env` such as a cookie secret)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "FLOWLOGS_DATA": str(data), **(env or {})}
    if via == "cli":
        cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--data", str(data), "--port", str(port),
               "--retention-interval", "3600", *cli_args]
        url = f"http://127.0.0.1:{port}/"
    elif via == "serve":
        cmd = [sys.executable, "-c",
               "from dashboard.logs import open_logs; from dashboard.server import serve; "
               f"serve(open_logs({str(data)!r}), port={port}, retention_interval=3600)"]
        url = f"http://127.0.0.1:{port}/"
    else:
        cmd = [sys.executable, "-m", "panel", "serve", "dashboard/app.py", "--address", "127.0.0.1",
               "--port", str(port), "--warm"]  # as README says: protections in place from the first request
        url = f"http://127.0.0.1:{port}/app"
    out = open(log, "wb")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    server = Server(url, data, process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not answer on {url}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def logs_template(tmp_path_factory) -> Logs:
    """The planted logs, written once; tests that change data work on copies."""
    return write_logs(tmp_path_factory.mktemp("template") / "logs")


def copy_logs(template: Logs, target: Path) -> Logs:
    shutil.copytree(template.root, target, ignore=shutil.ignore_patterns("_locks"))
    return Logs(**{**template.__dict__, "root": target})


@pytest.fixture(scope="session")
def shared_server(logs_template, tmp_path_factory):
    """One server for the tests that only read, started the way `panel serve` is."""
    logs = copy_logs(logs_template, tmp_path_factory.mktemp("shared") / "logs")
    server = start_server(logs.root, logs.root.parent / "server.log", via="panel")
    server.logs = logs
    yield server
    server.stop()


@pytest.fixture
def own_server(logs_template, tmp_path):
    """A server over a private copy of the logs, for tests that delete or write."""
    logs = copy_logs(logs_template, tmp_path / "logs")
    server = start_server(logs.root, tmp_path / "server.log")
    server.logs = logs
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """30 days of demo history (60 executions a day), served as `flowlogs serve` serves it. Read only."""
    from dashboard.demo import generate_history
    from dashboard.queries import LogQueries

    root = tmp_path_factory.mktemp("demo") / "logs"
    generate_history(Store(root), days=30, per_day=60, seed=1, now=dt.datetime.now(dt.timezone.utc))
    server = start_server(root, root.parent / "server.log")
    yield server, LogQueries(Store(root))
    server.stop()


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """docs/NAME when FLOWLOGS_SCREENSHOTS=1 (`make screenshots`), else a scratch file: a test run
    leaves the tree clean."""
    return (ROOT / "docs" if os.environ.get("FLOWLOGS_SCREENSHOTS") == "1" else tmp_path) / name


# -- browser -----------------------------------------------------------------------------




def _local_only(route):
    host = route.request.url.split("/")[2].split(":")[0] if "://" in route.request.url else ""
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.route("**/*", _local_only)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)  # assertions too: CI's 2 cores may be busy with a server and Chromium
    yield page
    context.close()
