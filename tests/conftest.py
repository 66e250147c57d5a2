"""Shared fixtures. Event builders live in tests/factories.py (importable by helper processes too)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# Debian's Chromium (never `playwright install`: it downloads a browser, which fails here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A fresh, empty data root on real disk."""
    return tmp_path / "logs"


@pytest.fixture(scope="session")
def s3():
    """A local S3-compatible server for the whole run, and the environment pointing at it."""
    from objectstore import S3Server, point_environment_at, restore_environment

    server = S3Server()
    previous = point_environment_at(server)
    yield server
    restore_environment(previous)
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def location(request, tmp_path: Path) -> str:
    """An empty data location: a folder on disk, then a prefix of a new bucket on the local S3 server
    (the store's contract tests run on both)."""
    if request.param == "folder":
        return str(tmp_path / "logs")
    return request.getfixturevalue("s3").bucket()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for helper processes: they can import dashboard and tests/factories.py."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), *sys.path, env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run: Playwright's sync API allows one instance at a time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
