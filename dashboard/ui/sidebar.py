"""Navigation between the dashboard's pages: Execution Logs and Token usage.

A click switches `state.page` in place (the URL follows, see page.py), so the range and
the rest of the state stay as they are; each entry is also a real link (`?page=tokens`),
which opens in a new tab with a middle click.
"""

from __future__ import annotations

import json

import param
from panel.custom import JSComponent

from .state import LogsState
from .theme import ICONS as THEME_ICONS
from .theme import asset

# page key -> (label, icon); our own constants
PAGES = {
    "logs": ("Execution Logs", THEME_ICONS["list"]),
    "tokens": ("Token usage", THEME_ICONS["coin"]),
}

CSS = asset("sidebar.css")


class SidebarElement(JSComponent):
    """The page links; a plain click sets `value` instead of loading the page again."""

    value = param.String(default="logs", doc="The page shown (a key of PAGES).")

    _esm = f"const PAGES = {json.dumps(PAGES)};\n" + asset("sidebar.js")
    _stylesheets = [CSS]


class Sidebar(SidebarElement):
    """The page list, two-way bound to `state.page`."""

    def __init__(self, state: LogsState, **params):
        super().__init__(value=state.page, sizing_mode="stretch_width", margin=0, **params)
        self.state = state
        self.param.watch(lambda e: setattr(state, "page", e.new), "value")
        state.param.watch(lambda e: setattr(self, "value", e.new), "page")
