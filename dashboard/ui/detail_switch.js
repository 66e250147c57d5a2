// ViewSwitchElement (detail_panel.py); JS_HELPERS (helpers.js) and VIEW_LABELS come before it, from Python.
export function render({ model, el }) {
  const bar = h("div", "views");
  bar.setAttribute("role", "tablist");
  bar.setAttribute("aria-label", "Execution details view");
  // built when the choice of views changes, updated in place otherwise (see detail_summary.js)
  let buttons = {};
  function build() {
    buttons = {};
    bar.replaceChildren();
    for (const view of Object.keys(VIEW_LABELS)) {
      if (view === "compare" && !model.compare) continue;
      const b = h("button", "view " + view, VIEW_LABELS[view]);
      b.setAttribute("role", "tab");
      b.setAttribute("data-view", view);
      b.addEventListener("click", () => { model.value = view; });
      bar.append(b);
      buttons[view] = b;
    }
    update();
  }
  function update() {
    for (const [view, b] of Object.entries(buttons)) {
      const selected = model.value === view;
      b.classList.toggle("selected", selected);
      b.setAttribute("aria-selected", selected ? "true" : "false");
    }
    const steps = buttons.steps;
    let count = steps.querySelector(".count");
    if (model.steps === null) { if (count) count.remove(); return; }
    if (!count) { count = h("span", "count"); steps.append(count); }
    count.textContent = fmtNumber(model.steps);
  }
  model.on(["value", "steps"], update);
  model.on("compare", build);
  build();
  el.append(bar);
}
