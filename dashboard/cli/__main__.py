"""`python -m dashboard.cli`: the same command line as the `flowlogs` script."""

from . import app

app()
