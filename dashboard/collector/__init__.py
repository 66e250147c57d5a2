"""The collector: events from any engine on any host, over HTTP.

`POST /v1/events` takes JSON lines of the event contract, `POST /v1/traces` OpenTelemetry traces
(OTLP/HTTP), each with an ingest key. One concern a module:

    keys.py      ingest keys: added, listed, revoked, checked (hashed, in the store)
    receipts.py  which batches are stored, so a retried batch is not stored twice
    pipeline.py  admission, the queue, and the worker that stores a round of batches with one flush
    otlp.py      OTLP requests and spans read as events; genai.py the GenAI semantic conventions
    traces.py    the steps of a trace numbered by start time across requests
    http.py      the tornado handlers; service.py a running collector (`flowlogs collect`)

The store knows nothing of the collector: it only declares the two tables (`ingest_keys`, `receipts`).
"""

from .http import Limits, routes
from .keys import IngestKeyError, IngestKeys
from .pipeline import Collector
from .receipts import Receipts
from .service import CollectorService, Options, start_collecting

__all__ = ["Collector", "CollectorService", "IngestKeyError", "IngestKeys", "Limits", "Options", "Receipts",
           "routes", "start_collecting"]
