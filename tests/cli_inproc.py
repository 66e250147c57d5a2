"""`flowlogs` run in this process: typer's CliRunner against the real `app`, giving back what a subprocess
gives (a CompletedProcess with returncode, stdout and stderr), so a test that only runs a command pays
milliseconds instead of a new interpreter and its imports (~1-1.5 s a command).

The same code runs as in `python -m dashboard.cli`: the command line is parsed by the same click command, the
store is the real one on disk, the output goes through the same rich consoles (not a terminal, so 80 columns
unless COLUMNS says otherwise, as when piped). What differs, and why it does not matter here:
- an exception the command does not handle ends in returncode 1 and a traceback on stderr, as Python does;
- `env` is the whole environment, as for subprocess.run: variables missing from it are unset for the run,
  and os.environ is restored afterwards (CliRunner does that);
- `cwd` changes the directory for the run only.

Tests about the process boundary itself (the console script, signals, kill -9, several processes, a real
terminal) still start a process."""

from __future__ import annotations

import os
import subprocess
import traceback
from collections.abc import Mapping, Sequence
from contextlib import chdir
from pathlib import Path

from typer.testing import CliRunner

from dashboard.cli import app


def run_cli(args: Sequence[str], *, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
            cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run `flowlogs *args` in this process and return what a subprocess.run(capture_output=True, text=True)
    returns."""
    args = [str(a) for a in args]
    overrides: dict[str, str | None] | None = None
    if env is not None:
        overrides = {k: v for k, v in env.items() if os.environ.get(k) != v}
        overrides.update({k: None for k in os.environ if k not in env})
    with chdir(cwd or os.getcwd()):
        result = CliRunner().invoke(app, args, input=input, env=overrides, catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["flowlogs", *args], result.exit_code, result.stdout, stderr)
