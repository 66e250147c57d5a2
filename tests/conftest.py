"""Shared fixtures. Event builders live in tests/factories.py (importable by helper processes too)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A fresh, empty data root on real disk."""
    return tmp_path / "logs"


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for helper processes: they can import dashboard and tests/factories.py."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), *sys.path, env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env
