// BannerElement (banner.py), after JS_HELPERS (closeButton).
export function render({ model, el }) {
  const box = document.createElement("div");
  box.setAttribute("role", "alert");
  function draw() {
    box.replaceChildren();
    box.className = "banner warning" + (model.text ? "" : " hidden");
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.textContent = "⚠";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = model.text;
    const close = closeButton(() => model.send_msg("dismiss"));
    box.append(icon, text, close);
  }
  model.on("text", draw);
  draw();
  el.append(box);
}
