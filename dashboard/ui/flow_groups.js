// FlowGroupListElement (flow_groups.py); JS_HELPERS (helpers.js) and execution_rows.js come before it.
export function render({ model, el }) {
  const list = h("div", "groups");
  let clock = serverClock(model);
  let agos = [];
  let live = [];
  const send = (msg) => model.send_msg(msg);

  function header(g, expanded) {
    const head = h("div", "group" + (expanded ? " expanded" : ""));
    head.setAttribute("role", "button");
    head.setAttribute("tabindex", "0");
    head.setAttribute("aria-expanded", expanded ? "true" : "false");
    head.setAttribute("data-flow", g.flow_name);
    head.setAttribute("data-tab", g.tab);
    head.append(h("span", "chevron", "›"));
    const name = h("span", "flow-name", g.flow_name);
    name.title = g.flow_name;
    head.append(name);
    if (g.has_failures) {
      const dot = h("span", "failure-dot");
      dot.title = fmtNumber(g.failed_runs) + " failed run" + (g.failed_runs === 1 ? "" : "s");
      dot.setAttribute("aria-label", "has failed runs");
      head.append(dot);
    }
    head.append(h("span", "runs", fmtNumber(g.runs) + (g.runs === 1 ? " run" : " runs")));
    head.append(h("span", "spacer"));
    head.append(chip(g.latest_status));
    const ago = h("span", "ago", fmtAgo(clock() - g.last_activity));
    ago.title = g.last_activity ? "Last activity " + fmtLocal(g.last_activity) : "";
    agos.push([ago, g.last_activity]);
    head.append(ago);
    const toggle = () => model.send_msg({action: "toggle", flow: g.flow_name});
    head.addEventListener("click", toggle);
    head.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
    });
    return head;
  }

  // While the pointer is over the list, the auto-refresh does not move what is under it: with
  // hundreds of busy flows the order changes every second, and a row would slip away from the
  // click. What the user does (expand, open, page, a tab) is drawn at once; a held update is
  // drawn as soon as the pointer leaves.
  const holder = h("div", "list-holder");
  const held = h("div", "held-note", "Live updates held while the pointer is on the list");
  held.setAttribute("role", "status");
  held.hidden = true;
  let pointed = false, drawn = false, scheduled = false;
  list.addEventListener("pointerenter", () => { pointed = true; });
  list.addEventListener("pointerleave", () => { pointed = false; if (!held.hidden) draw(); });
  // the properties of one update arrive one by one: draw once, after the last of them
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      if (model.live && pointed && drawn) held.hidden = false;
      else draw();
    });
  }

  function draw() {
    drawn = true;
    held.hidden = true;
    clock = serverClock(model);
    agos = [];
    live = [];
    const open = new Set(model.expanded);
    const items = [];
    for (const g of model.groups) {
      const expanded = open.has(g.flow_name);
      const group = h("div", "flow-group" + (expanded ? " expanded" : ""));
      group.append(header(g, expanded));
      if (expanded) {
        group.append(renderRows(g.flow_name, model.executions[g.flow_name], model.selected, clock, live, send));
      }
      items.push(group);
    }
    if (!model.groups.length) items.push(h("div", "empty muted", model.empty_text));
    if (model.hidden > 0) {
      const more = h("button", "more", "Show more flows (" + fmtNumber(model.hidden) + " more)");
      more.addEventListener("click", () => model.send_msg({action: "more"}));
      items.push(more);
    }
    list.replaceChildren(...items);
  }
  model.on(["groups", "expanded", "executions", "selected", "hidden", "empty_text", "server_now"], schedule);
  draw();
  let ticks = 0;
  const timer = setInterval(() => {
    for (const [e, t] of live) e.textContent = fmtDuration(clock() - t);
    if (++ticks % 10 === 0) for (const [e, t] of agos) e.textContent = fmtAgo(clock() - t);
  }, 1000);
  model.on("remove", () => clearInterval(timer));
  holder.append(list, held);
  el.append(holder);
}
