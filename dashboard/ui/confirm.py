"""The confirmation dialog in front of every deletion.

Drawn with textContent like every other component: the message may hold a flow
name or an execution id from the logs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import panel as pn
import param
from panel.custom import JSComponent

from .theme import BASE_CSS, asset


class ConfirmDialogElement(JSComponent):
    open = param.Boolean(default=False, doc="Whether the dialog is shown; the browser closes it on an answer.")
    title = param.String(default="", doc="The question, as plain text.")
    message = param.String(default="", doc="What will happen, as plain text.")
    detail = param.String(default="", doc="What is kept or cannot be undone, as plain text.")
    confirm_label = param.String(default="Delete", doc="The confirming button's label.")

    _esm = asset("confirm.js")

    _stylesheets = [BASE_CSS + asset("confirm.css")]

    def __init__(self, on_answer: Callable[[bool], None], **params):
        super().__init__(**params)
        self._on_answer = on_answer

    def _handle_msg(self, msg) -> None:
        if msg in ("confirm", "cancel"):
            self._on_answer(msg == "confirm")


class ConfirmDialog(pn.viewable.Viewer):
    """`ask()` opens it; the action runs only after the user confirms."""

    def __init__(self, **params):
        super().__init__(**params)
        self._action: Callable[[], Awaitable[None]] | None = None
        self.view = ConfirmDialogElement(self._answered, margin=0, height=0, css_classes=["confirm-dialog"])

    def ask(self, title: str, message: str, *, detail: str = "", confirm_label: str = "Delete",
            action: Callable[[], Awaitable[None]]) -> None:
        self._action = action
        self.view.param.update(title=title, message=message, detail=detail, confirm_label=confirm_label, open=True)

    def close(self) -> None:
        self._action = None
        self.view.open = False

    def _answered(self, confirmed: bool) -> None:
        action, self._action = self._action, None
        self.view.open = False
        if confirmed and action is not None:
            async def run() -> None:
                await action()

            pn.state.execute(run)

    def __panel__(self):
        return self.view
