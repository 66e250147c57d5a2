"""Panel components of the served dashboard.

One `LogsState` (state.py) holds what the user looks at; every component observes it
and loads its own data through `LogSource` (source.py), off the event loop.
Log strings are untrusted: components show them through `textContent` in their own
JavaScript, through `pn.pane.JSON`, or escaped with `html.escape` (format.py).
"""
