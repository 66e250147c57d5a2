// SidebarElement (sidebar.py); PAGES comes before it, from Python.
export function render({ model, el }) {
  const nav = document.createElement("nav");
  nav.className = "nav";
  nav.setAttribute("aria-label", "Pages");
  const section = document.createElement("div");
  section.className = "section";
  section.textContent = "Monitoring";
  function href(key) {
    const query = new URLSearchParams(window.location.search);
    query.set("page", key);
    return "?" + query.toString();
  }
  function draw() {
    nav.replaceChildren(section);
    for (const [key, [label, icon]] of Object.entries(PAGES)) {
      const item = document.createElement("a");
      item.className = "item" + (key === model.value ? " active" : "");
      item.setAttribute("data-page", key);
      item.href = href(key);
      if (key === model.value) item.setAttribute("aria-current", "page");
      const glyph = document.createElement("span");
      glyph.className = "icon";
      glyph.innerHTML = icon;  // our own constant SVG
      const text = document.createElement("span");
      text.textContent = label;
      item.append(glyph, text);
      item.addEventListener("click", (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        model.value = key;
      });
      item.addEventListener("mouseenter", () => { item.href = href(key); });  // the range may have moved
      nav.append(item);
    }
  }
  model.on("value", draw);
  draw();
  el.append(nav);
}
