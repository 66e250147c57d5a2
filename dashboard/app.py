"""The served dashboard: `panel serve dashboard/app.py` (data directory from FLOWLOGS_DATA).

    FLOWLOGS_DATA=data/logs panel serve dashboard/app.py --address 127.0.0.1 --port 5006

`flowlogs serve` (dashboard.server.serve) serves the same page.
"""

from __future__ import annotations

import os

import panel as pn

from dashboard.ui.page import create_page
from dashboard.ui.upkeep import start_compaction, start_retention

DATA_DIR = os.environ.get("FLOWLOGS_DATA", "data/logs")
RETENTION_DAYS = int(os.environ.get("FLOWLOGS_RETENTION_DAYS", "30"))
COMPACT_INTERVAL = float(os.environ.get("FLOWLOGS_COMPACT_INTERVAL", "300"))  # seconds; 0 turns it off

pn.extension(notifications=False)

if __name__.startswith("bokeh"):
    start_retention(DATA_DIR, days=RETENTION_DAYS)  # once per process, whatever the number of sessions
    if COMPACT_INTERVAL:
        start_compaction(DATA_DIR, interval=COMPACT_INTERVAL)
    create_page(DATA_DIR).servable(title="Execution Logs · flowlogs")
