// The rows of one flow group: flow_groups.js calls renderRows (execution_rows.py).
// One flow's page of executions. `send` posts a message to Python; running rows are
// pushed to `live` as [element, started] so the caller can tick their durations.
function renderRows(flow, data, selected, clock, live, send) {
  const root = h("div", "rows");
  root.setAttribute("data-rows-of", flow);
  function cell(cls, child, title) {
    const c = h("div", "cell col-" + cls);
    if (child) c.append(child);
    if (title) c.title = title;
    return c;
  }
  function count(n, cls, title) {
    const s = h("span", n > 0 ? cls : "zero", fmtNumber(n));
    s.title = title;
    return s;
  }
  if (!data) {
    root.append(h("div", "empty muted", "Loading executions…"));
    return root;
  }
  if (data.loading) root.classList.add("loading");
  const head = h("div", "row head");
  for (const [cls, label, title] of [["status", "Status"], ["trigger", "Trigger"], ["started", "Started"],
                                     ["duration", "Duration"], ["sent", "Sent", "Messages sent"],
                                     ["failed", "Failed", "Messages failed"], ["actions", ""]]) {
    head.append(cell(cls, h("span", null, label), title));
  }
  root.append(head);
  if (!data.rows.length) root.append(h("div", "empty muted", data.page > 0 ? "No more executions." : "No executions."));
  for (const r of data.rows) {
    const row = h("div", "row execution-row" + (r.id === selected ? " selected" : ""));
    row.setAttribute("role", "button");
    row.setAttribute("tabindex", "0");
    row.setAttribute("data-execution-id", r.id);
    row.setAttribute("data-status", r.status);
    row.append(cell("status", chip(r.status)));
    const trig = h("span", "trigger-label");
    trig.append(icon(r.trigger), h("span", "trigger-type", SHORT_TRIGGER_LABELS[r.trigger] || r.trigger));
    if (r.phone) trig.append(h("span", "phone mono", r.phone));
    row.append(cell("trigger", trig, (TRIGGER_LABELS[r.trigger] || r.trigger) + (r.phone ? " from " + r.phone : "")));
    row.append(cell("started", h("span", null, fmtTime(r.started)), new Date(r.started).toISOString()));
    const running = r.status === "running";
    const dur = h("span", "mono" + (running ? " live" : ""), fmtDuration(running ? clock() - r.started : r.duration));
    if (running) live.push([dur, r.started]);
    row.append(cell("duration", dur));
    row.append(cell("sent", count(r.sent, "sent", "Messages sent")));
    row.append(cell("failed", count(r.failed, "failed-count", "Messages failed")));
    if (data.can_delete) {  // viewers get no trash icon (and the server refuses a forged delete)
      const trash = h("button", "trash");
      trash.title = running ? "Running executions cannot be deleted" : "Delete this execution";
      trash.setAttribute("aria-label", "Delete execution");
      trash.append(icon("trash"));
      trash.addEventListener("click", (e) => { e.stopPropagation(); send({action: "delete", flow: flow, id: r.id}); });
      row.append(cell("actions", trash));
    } else {
      row.append(cell("actions"));
    }
    const open = () => send({action: "open", flow: flow, id: r.id});
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    root.append(row);
  }
  if (data.page > 0 || data.has_next) {
    const first = data.page * data.page_size;
    const pager = h("div", "pager");
    const shown = data.rows.length ? (first + 1) + "–" + (first + data.rows.length) : "–";
    pager.append(h("span", "muted range", shown + (data.total !== null ? " of " + fmtNumber(data.total) : "")));
    const prev = h("button", "page-btn prev", "‹ Newer");
    prev.disabled = data.page === 0;
    prev.addEventListener("click", () => send({action: "page", flow: flow, page: data.page - 1}));
    const next = h("button", "page-btn next", "Older ›");
    next.disabled = !data.has_next;
    next.addEventListener("click", () => send({action: "page", flow: flow, page: data.page + 1}));
    pager.append(prev, next);
    root.append(pager);
  }
  return root;
}
