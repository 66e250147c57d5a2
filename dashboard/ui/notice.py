"""A one-line message for the user: the outcome of an action, or why it was refused."""

from __future__ import annotations

import json

import panel as pn
import param
from panel.custom import JSComponent

from .state import LogsState
from .theme import BASE_CSS, JS_HELPERS, asset

DISMISS_AFTER_MS = {"info": 8000, "success": 6000, "error": 0}  # errors stay until closed


class NoticeElement(JSComponent):
    text = param.String(default="", doc="The message, as plain text ('' hides it).")
    kind = param.String(default="info", doc="info, success or error: its colour.")
    shown = param.Integer(default=0, doc="Bumped to show the same text again.")

    _esm = JS_HELPERS + f"const DISMISS_AFTER = {json.dumps(DISMISS_AFTER_MS)};\n" + asset("notice.js")

    _stylesheets = [BASE_CSS + asset("notice.css")]


class Notice(pn.viewable.Viewer):
    def __init__(self, state: LogsState, **params):
        super().__init__(**params)
        self.state = state
        self.view = NoticeElement(sizing_mode="stretch_width", margin=(0, 0, 12, 0), visible=False)
        self.view.param.watch(self._dismissed, "text")
        state.param.watch(self._show, ["notice", "notice_kind"])

    def _show(self, *_):
        self.view.param.update(text=self.state.notice, kind=self.state.notice_kind, shown=self.view.shown + 1,
                               visible=bool(self.state.notice))

    def _dismissed(self, event) -> None:
        if not event.new:
            self.view.visible = False
            with param.parameterized.discard_events(self.state):
                self.state.notice = ""

    def __panel__(self):
        return self.view
