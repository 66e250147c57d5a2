"""A realistic flow simulator: drives the recorder exactly as the flow engine would.

    generate_history("data/logs", days=30, per_day=500)   # a month of history, in seconds
    run_live("data/logs", per_day=500, stop=event)         # new executions in real time, at history's pace

The tenant is Verde Coffee Roasters, a specialty roaster with an online shop and three
cafés (Berlin, São Paulo, Madrid). Its flows cover every shape the Execution Logs page
shows: AI auto-replies to incoming WhatsApp messages, scheduled broadcasts looping over
contact rows, manual campaigns, HTTP lookups, conditions with skipped branches, and the
failures the help page lists (WhatsApp disconnected, invalid phone numbers, AI provider
errors, missing template variables) at realistic rates.

History runs on a SimulatedClock that the engine "works" by advancing, so a month takes
seconds, and everything random comes from random.Random(seed): the same seed and `now`
give identical data, down to the execution ids (UUIDv7 built from the simulated start).
The live demo uses the real clock and real (scaled) sleeps, one thread per execution.
It starts executions at the history's pace (`per_day`, following the same daily curve), at
least one a minute; stopped (Ctrl+C, SIGTERM, or its stop event), it cancels the executions
it started, as a flow engine shut down cleanly does, and flushes.

One module per concern, each importing only the ones listed before it (texts first):

- `clock`: SimulatedClock for history, LiveClock for the live demo, UUIDv7 ids (`uuid7_at`);
- `texts`: what customers write and what the tenant answers, per language, and the AI prompts: data;
- `contacts`: the tenant's customers (countries, names, E.164 numbers), its staff and cafés;
- `failures`: the exceptions nodes raise, the fault kinds planned per execution, their messages;
- `engine`: the `Engine`, one helper per node type, and the contact rows a flow reads;
- `flows_incoming`, `flows_scheduled`: the flows an incoming message starts, and the scheduled and manual
  ones; each a function of an `Engine` running its nodes in order;
- `catalog`: `FLOWS`, each flow's trigger, traffic and faults, and `run_execution`;
- `history`: a day's plan and `generate_history`;
- `live`: `run_live`, its pace (`live_rate`, `history_per_day`) and `stopped_by_signals`.

This package re-exports the names the CLI, the server, the tests and the notebooks use.
"""

from __future__ import annotations

from .catalog import FLOW_NAMES, FLOWS
from .clock import SimulatedClock, uuid7_at
from .engine import MAX_REPLY_CHARS
from .failures import LIVE_STOP_REASON, USER_STOP_REASON, sample_errors
from .history import DEFAULT_PER_DAY, HOUR_WEIGHTS, WEEKDAY_FACTORS, generate_history
from .live import history_per_day, live_rate, run_live, stopped_by_signals
from .texts import MODELS

__all__ = [
    "DEFAULT_PER_DAY",
    "FLOWS",
    "FLOW_NAMES",
    "HOUR_WEIGHTS",
    "LIVE_STOP_REASON",
    "MAX_REPLY_CHARS",
    "MODELS",
    "USER_STOP_REASON",
    "WEEKDAY_FACTORS",
    "SimulatedClock",
    "generate_history",
    "history_per_day",
    "live_rate",
    "run_live",
    "sample_errors",
    "stopped_by_signals",
    "uuid7_at",
]
