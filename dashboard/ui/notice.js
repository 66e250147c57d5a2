// NoticeElement (notice.py), after JS_HELPERS (closeButton); DISMISS_AFTER comes before it, from Python.
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
    const close = closeButton(() => { model.text = ""; });
    box.append(text, close);
    const after = DISMISS_AFTER[model.kind] || 0;
    if (model.text && after) timer = setTimeout(() => { model.text = ""; }, after);
  }
  model.on(["text", "kind", "shown"], draw);
  draw();
  el.append(box);
}
