// StepCardsElement (step_card.py); JS_HELPERS (helpers.js) comes before it.
export function render({ model, el }) {
  const list = h("div", "steps");

  function header(s, expanded) {
    const head = h("div", "step " + (s.status || "") + (expanded ? " expanded" : ""));
    head.setAttribute("role", "button");
    head.setAttribute("tabindex", "0");
    head.setAttribute("aria-expanded", expanded ? "true" : "false");
    head.setAttribute("data-step", String(s.index));
    head.setAttribute("data-status", s.status || "");
    head.append(h("span", "index", String(s.index + 1)));
    const names = h("span", "names");
    names.append(h("span", "node-name", s.node_name), h("span", "node-type", typeLabel(s.node_type)));
    head.append(names);
    if (s.warnings) {
      const w = h("span", "warn-badge", "⚠ " + s.warnings);
      w.title = s.warnings + " warning" + (s.warnings === 1 ? "" : "s");
      head.append(w);
    }
    if (s.ai) {
      const t = h("span", "tokens", fmtNumber(s.prompt_tokens + s.completion_tokens) + " tokens");
      t.title = fmtNumber(s.prompt_tokens) + " prompt + " + fmtNumber(s.completion_tokens) + " completion" +
                (s.model ? " · " + s.model : "");
      head.append(t);
    }
    head.append(h("span", "duration mono", fmtDuration(s.duration)));
    head.append(chip(s.status));
    head.append(h("span", "chevron", "›"));
    const toggle = () => model.send_msg({action: "toggle", index: s.index});
    head.addEventListener("click", toggle);
    head.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
    });
    return head;
  }

  function draw() {
    const bodies = model.get_child("bodies") || [];
    const bodyOf = new Map();
    model.body_steps.forEach((index, i) => { if (bodies[i]) bodyOf.set(index, bodies[i]); });
    const open = new Set(model.expanded);
    const items = [];
    for (const s of model.steps) {
      const expanded = open.has(s.index);
      const card = h("div", "step-card" + (expanded ? " expanded" : ""));
      card.append(header(s, expanded));
      if (expanded && bodyOf.has(s.index)) card.append(bodyOf.get(s.index));
      items.push(card);
    }
    list.replaceChildren(...items);
  }
  model.on(["steps", "expanded", "body_steps"], draw);
  draw();
  el.append(list);
}
