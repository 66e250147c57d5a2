"""The quarantine banner: data files the readers could not use were moved aside, not dropped.

Shown on the Execution Logs page while `Store.quarantined()` lists any file: how many,
where they are now, and which command lists them. Every other execution stays visible
(the store reads on without them). Closing it hides it until another file is moved.
"""

from __future__ import annotations

import asyncio

import panel as pn
import param
from panel.custom import JSComponent

from ..store import Store
from .loader import Loader
from .state import LogsState
from .theme import BASE_CSS, JS_HELPERS, asset


def quarantine_message(moved: list[dict], root: str) -> str:
    """What the banner says about these quarantined files (plain text, drawn with textContent)."""
    count = len(moved)
    files = f"{count:,} unreadable data file{'s were' if count != 1 else ' was'}"
    return (f"{files} moved aside to {root}/quarantine (corrupt, cut short or not Parquet). Every other "
            f"execution is shown. `flowlogs quarantine --data {root}` lists them and why.")


class BannerElement(JSComponent):
    text = param.String(default="", doc="What the banner says, as plain text ('' hides it).")

    _esm = JS_HELPERS + asset("banner.js")

    _stylesheets = [BASE_CSS + asset("banner.css")]

    def __init__(self, on_dismiss, **params):
        super().__init__(**params)
        self._on_dismiss = on_dismiss

    def _handle_msg(self, msg) -> None:
        if msg == "dismiss":
            self._on_dismiss()


class QuarantineBanner(pn.viewable.Viewer):
    def __init__(self, state: LogsState, store: Store, **params):
        super().__init__(**params)
        self.store = store
        self.dismissed_at = 0  # the count the user closed the banner at
        self.count = 0
        self.view = BannerElement(self._dismiss, sizing_mode="stretch_width", margin=(0, 0, 12, 0), visible=False,
                               css_classes=["quarantine-banner"])
        self.loader = Loader(lambda: asyncio.to_thread(store.quarantined), self._show)
        state.reload_on_revision(self.loader)

    def _show(self, moved: list[dict]) -> None:
        self.count = len(moved)
        shown = self.count > self.dismissed_at
        self.view.param.update(text=quarantine_message(moved, self.store.root) if shown else "", visible=shown)

    def _dismiss(self) -> None:
        self.dismissed_at = self.count
        self.view.param.update(text="", visible=False)

    def __panel__(self):
        return self.view
