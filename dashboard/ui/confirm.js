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
