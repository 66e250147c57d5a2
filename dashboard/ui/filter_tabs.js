// FilterTabsElement (filter_tabs.py); JS_HELPERS (helpers.js) comes before it.
export function render({ model, el }) {
  const bar = h("div", "tabs");
  bar.setAttribute("role", "tablist");
  // The buttons are built once per set of labels and updated in place: the counts change on every
  // refresh of a live day, and a button replaced between a press and its release gets no click.
  let tabs = {};
  function build() {
    tabs = {};
    bar.replaceChildren();
    for (const [key, label] of Object.entries(model.labels)) {
      const tab = h("button", "tab " + key);
      tab.setAttribute("role", "tab");
      tab.setAttribute("data-tab", key);
      tab.append(h("span", "label", label), h("span", "count"));
      tab.addEventListener("click", () => { model.value = key; });
      bar.append(tab);
      tabs[key] = tab;
    }
    update();
  }
  function update() {
    for (const [key, tab] of Object.entries(tabs)) {
      const active = key === model.value;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", active ? "true" : "false");
      const n = model.counts[key];
      const count = tab.querySelector(".count");
      count.classList.toggle("alert", key === "failed" && n > 0);
      const text = n === undefined ? "…" : fmtNumber(n);
      if (count.textContent !== text) count.textContent = text;
    }
  }
  model.on(["value", "counts"], update);
  model.on("labels", build);
  build();
  el.append(bar);
}
