"""The confirmation dialog in front of every deletion.

Drawn with textContent like every other component: the message may hold a flow
name or an execution id from the logs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import panel as pn
import param
from panel.custom import JSComponent

from .theme import BASE_CSS


class ConfirmDialogView(JSComponent):
    open = param.Boolean(default=False, doc="Whether the dialog is shown; the browser closes it on an answer.")
    title = param.String(default="", doc="The question, as plain text.")
    message = param.String(default="", doc="What will happen, as plain text.")
    detail = param.String(default="", doc="What is kept or cannot be undone, as plain text.")
    confirm_label = param.String(default="Delete", doc="The confirming button's label.")

    _esm = """
function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
export function render({ model, el }) {
  const backdrop = h("div", "backdrop");
  function draw() {
    backdrop.replaceChildren();
    backdrop.classList.toggle("open", model.open);
    if (!model.open) return;
    const box = h("div", "dialog");
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-modal", "true");
    box.append(h("div", "title", model.title), h("div", "message", model.message));
    if (model.detail) box.append(h("div", "detail mono", model.detail));
    const actions = h("div", "actions");
    const cancel = h("button", "cancel", "Cancel");
    const ok = h("button", "confirm", model.confirm_label);
    cancel.addEventListener("click", () => model.send_msg("cancel"));
    ok.addEventListener("click", () => { ok.disabled = true; model.send_msg("confirm"); });
    actions.append(cancel, ok);
    box.append(actions);
    backdrop.append(box);
    setTimeout(() => cancel.focus(), 0);
  }
  backdrop.addEventListener("click", (e) => { if (e.target === backdrop) model.send_msg("cancel"); });
  backdrop.addEventListener("keydown", (e) => { if (e.key === "Escape") model.send_msg("cancel"); });
  model.on(["open", "title", "message", "detail", "confirm_label"], draw);
  draw();
  el.append(backdrop);
}
"""

    _stylesheets = [BASE_CSS + """
.backdrop { display: none; }
.backdrop.open { display: flex; position: fixed; inset: 0; z-index: 1000; background: rgba(15, 23, 42, .45);
                 align-items: center; justify-content: center; }
.dialog { background: #fff; border-radius: 14px; width: min(480px, calc(100vw - 32px)); padding: 22px 24px 18px;
          box-shadow: 0 24px 60px rgba(15, 23, 42, .3); }
.title { font-size: 18px; font-weight: 700; margin-bottom: 8px; }
.message { font-size: 14px; color: #334155; line-height: 1.5; overflow-wrap: anywhere; }
.detail { font-size: 12px; color: #64748b; margin-top: 10px; overflow-wrap: anywhere; }
.actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 20px; }
.actions button { border-radius: 8px; padding: 8px 16px; font-size: 14px; font-weight: 600; cursor: pointer; }
.cancel { border: 1px solid var(--line); background: #fff; color: #334155; }
.cancel:hover { background: #f8fafc; }
.confirm { border: 1px solid #dc2626; background: #dc2626; color: #fff; }
.confirm:hover { background: #b91c1c; }
.confirm:disabled { opacity: .6; cursor: default; }
"""]

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
        self.view = ConfirmDialogView(self._answered, margin=0, height=0, css_classes=["confirm-dialog"])

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
