"""A one-line message for the user: the outcome of an action, or why it was refused."""

from __future__ import annotations

import json

import panel as pn
import param
from panel.custom import JSComponent

from .state import LogsState
from .theme import BASE_CSS

DISMISS_AFTER_MS = {"info": 8000, "success": 6000, "error": 0}  # errors stay until closed


class NoticeView(JSComponent):
    text = param.String(default="", doc="The message, as plain text ('' hides it).")
    kind = param.String(default="info", doc="info, success or error: its colour.")
    shown = param.Integer(default=0, doc="Bumped to show the same text again.")

    _esm = f"const DISMISS_AFTER = {json.dumps(DISMISS_AFTER_MS)};\n" + """
export function render({ model, el }) {
  const box = document.createElement("div");
  box.setAttribute("role", "status");
  let timer = null;
  function draw() {
    clearTimeout(timer);
    box.replaceChildren();
    box.className = "notice " + String(model.kind).replace(/[^a-z]/g, "") + (model.text ? "" : " hidden");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = model.text;
    const close = document.createElement("button");
    close.className = "close";
    close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", () => { model.text = ""; });
    box.append(text, close);
    const after = DISMISS_AFTER[model.kind] || 0;
    if (model.text && after) timer = setTimeout(() => { model.text = ""; }, after);
  }
  model.on(["text", "kind", "shown"], draw);
  draw();
  el.append(box);
}
"""

    _stylesheets = [BASE_CSS + """
.notice { display: flex; align-items: center; gap: 10px; padding: 10px 14px; border-radius: 10px; font-size: 14px;
          border: 1px solid; }
.notice.hidden { display: none; }
.notice.info { background: #eff6ff; border-color: #bfdbfe; color: #1e3a8a; }
.notice.success { background: #f0fdf4; border-color: #bbf7d0; color: #14532d; }
.notice.error { background: #fef2f2; border-color: #fecaca; color: #991b1b; }
.text { flex: 1; overflow-wrap: anywhere; }
.close { border: 0; background: transparent; font-size: 18px; cursor: pointer; color: inherit; opacity: .7; }
.close:hover { opacity: 1; }
"""]


class Notice(pn.viewable.Viewer):
    def __init__(self, state: LogsState, **params):
        super().__init__(**params)
        self.state = state
        self.view = NoticeView(sizing_mode="stretch_width", margin=(0, 0, 12, 0), visible=False)
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
