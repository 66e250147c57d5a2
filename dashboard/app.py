"""The served dashboard: `panel serve dashboard/app.py` (data directory from FLOWLOGS_DATA).

    FLOWLOGS_DATA=data/logs panel serve dashboard/app.py --address 127.0.0.1 --port 5006 --warm

`flowlogs serve` (dashboard.server.serve) serves the same page, and is the way to sign in
with roles. Here Panel's own flags sign in (`--basic-auth`, `--oauth-provider`,
`--cookie-secret`); FLOWLOGS_USERS (a flowlogs users file) or FLOWLOGS_ADMINS give the
roles, FLOWLOGS_MASK_PHONES / FLOWLOGS_HIDE_AI_TEXT the privacy options (dashboard/auth.py).

The same refusals as `flowlogs serve`: without sign-in, a process listening beyond loopback
(`--address 0.0.0.0`, or no `--address`: every interface) serves a page that says so and no
logs; with sign-in, a weak cookie secret or a users file others can read is refused too.
This file runs with each page (and once at start-up with `--warm`): the HTTP protections of
dashboard/web.py (sign-outs, no framing, SameSite cookies) are installed on its first run, so
`--warm` puts them in place before the first request.
"""

from __future__ import annotations

import logging
import os
import threading

import panel as pn

from dashboard import web
from dashboard.auth import AccessConfig, AccessError, check_listen, cookie_secret_problem
from dashboard.logs import Logs, open_logs
from dashboard.server import shared_source
from dashboard.ui.bundle import skip_unused_mathjax
from dashboard.ui.page import create_page, refusal_page
from dashboard.ui.source import LogSource
from dashboard.upkeep import start_upkeep

log = logging.getLogger("dashboard.app")

DATA_DIR = os.environ.get("FLOWLOGS_DATA", "data/logs")
RETENTION_DAYS = int(os.environ.get("FLOWLOGS_RETENTION_DAYS", "30"))
COMPACT_INTERVAL = float(os.environ.get("FLOWLOGS_COMPACT_INTERVAL", "300"))  # seconds; 0 turns it off

# the token page's table: loaded up front, or a session opened before it (a health check) leaves
# the next sessions without its JavaScript, and their page never loads
pn.extension("tabulator", notifications=False)
skip_unused_mathjax()



def _open() -> tuple[Logs, LogSource]:
    """The process's one Logs and LogSource, and its upkeep: Panel runs this file once per session,
    and pn.state.as_cached builds these once per process."""
    logs = open_logs(DATA_DIR)
    start_upkeep(logs.queries, threading.Event(), retention_days=RETENTION_DAYS,
                 compact_interval=COMPACT_INTERVAL or None)
    return logs, shared_source(logs)


def serving_problem(access: AccessConfig) -> str | None:
    """Why this process must not serve the logs: what `flowlogs serve` refuses before it starts.
    Checked with every page: at a --warm start-up the process does not listen yet."""
    panel_auth = bool(pn.config.basic_auth or pn.config.oauth_provider)
    if panel_auth:
        problem = cookie_secret_problem(pn.config.cookie_secret)
        if problem:
            return problem.replace("--cookie-secret or set FLOWLOGS_COOKIE_SECRET",
                                   "--cookie-secret or set PANEL_COOKIE_SECRET")
    try:
        for address in web.listening_addresses():
            check_listen(address, access)
    except AccessError as exc:
        return str(exc)
    return None


if __name__.startswith("bokeh"):
    ACCESS = AccessConfig.from_env(panel_auth=bool(pn.config.basic_auth or pn.config.oauth_provider))
    LOGS, SOURCE = pn.state.as_cached(f"flowlogs:{DATA_DIR}", _open)
    web.install(ACCESS, LOGS.store)
    PROBLEM = serving_problem(ACCESS)
    if PROBLEM:
        log.error("%s", PROBLEM)
        refusal_page("This dashboard refuses to serve the logs", PROBLEM).servable(title="Execution Logs · flowlogs")
    else:
        create_page(LOGS, SOURCE, access=ACCESS).servable(title="Execution Logs · flowlogs")
