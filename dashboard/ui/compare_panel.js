// ComparisonElement (compare_panel.py); JS_HELPERS (helpers.js) comes before it.
export function render({ model, el }) {
  const box = h("div", "compare");

  function value(text, kind) {
    if (text === null || text === undefined) return h("span", "value missing", "missing");
    return h("span", "value mono " + kind, text);
  }

  function changes(list, more, title, cls, what) {
    const wrap = h("div", "changes " + cls);
    wrap.append(h("div", "section-title", title));
    const table = h("div", "change-list");
    for (const c of list) {
      const row = h("div", "change " + c.kind);
      row.setAttribute("data-path", c.path);
      row.append(h("span", "path mono", c.path === "(value)" ? "(the whole " + what + ")" : c.path));
      const vals = h("span", "values");
      vals.append(value(c.before, "before"), h("span", "arrow", "→"), value(c.after, "after"));
      row.append(vals);
      table.append(row);
    }
    wrap.append(table);
    if (more) wrap.append(h("div", "muted more", "… and " + fmtNumber(more) + " more"));
    return wrap;
  }

  function stepCard(s) {
    const card = h("div", "diff-step " + s.presence + (s.first ? " first" : "") + (s.failing ? " failing" : "") +
                   (s.significant ? "" : " minor"));
    card.setAttribute("data-node-id", s.node_id);
    card.setAttribute("data-step", String(s.index));
    card.setAttribute("data-presence", s.presence);
    const head = h("div", "diff-head");
    head.append(h("span", "index", String(s.index + 1)));
    const names = h("span", "names");
    names.append(h("span", "node-name", s.name), h("span", "node-type", typeLabel(s.type) +
                 (s.occurrence ? " · run " + (s.occurrence + 1) + " of this node" : "")));
    head.append(names);
    if (s.first) head.append(h("span", "badge first-badge", "first difference"));
    if (s.presence === "failed_only") head.append(h("span", "badge only", "only in this run"));
    if (s.presence === "success_only") head.append(h("span", "badge only", "only in the successful run"));
    if (s.status_changed) {
      const st = h("span", "status-change");
      st.append(chip(s.success_status), h("span", "arrow", "→"), chip(s.status));
      head.append(st);
    } else if (s.status) head.append(chip(s.status));
    else if (s.success_status) head.append(chip(s.success_status));
    card.append(head);

    const body = h("div", "diff-body");
    if (s.error) {
      body.append(h("div", "section-title", "Error"));
      body.append(h("pre", "error", s.error));
    }
    if (s.inputs.length) body.append(changes(s.inputs, s.more_inputs, "Input fields that differ", "input", "input"));
    if (s.duration_change || (s.presence === "both" && s.significant)) {
      const d = h("div", "duration-line" + (s.duration_change ? " " + s.duration_change : ""));
      d.append(h("span", "label", "Duration "), h("span", "mono", fmtDuration(s.duration)),
               h("span", "muted", " vs " + fmtDuration(s.success_duration) + " in the successful run"));
      if (s.duration_change) d.append(h("span", "badge " + s.duration_change, s.duration_change));
      body.append(d);
    }
    if (s.outputs.length) {
      body.append(changes(s.outputs, s.more_outputs, "Output fields that differ", "output", "output"));
    }
    if (s.presence !== "both") {
      const dur = s.presence === "failed_only" ? s.duration : s.success_duration;
      body.append(h("div", "muted duration-line", "Duration " + fmtDuration(dur)));
    }
    if (body.childNodes.length) card.append(body);
    return card;
  }

  function draw() {
    box.replaceChildren();
    const c = model.comparison;
    if (!c) {
      box.append(h("div", "message muted", model.message));
      return;
    }
    const base = h("div", "baseline");
    base.append(h("div", "section-title", "Compared with the last successful run"));
    const line = h("div", "baseline-line");
    const link = h("a", "baseline-link mono", c.baseline.id);
    link.href = "?execution=" + encodeURIComponent(c.baseline.id) + "&view=steps";
    link.title = "Open the successful execution";
    link.addEventListener("click", (ev) => {
      ev.preventDefault();
      model.send_msg({action: "open", id: c.baseline.id});
    });
    line.append(link);
    const when = h("span", "muted", " · started " + fmtTime(c.baseline.started) + " · took " +
                   fmtDuration(c.baseline.duration));
    line.append(when);
    base.append(line);
    box.append(base);

    const summary = h("div", "summary-line");
    const differing = c.differing_steps;
    if (!differing && !c.execution_changes.length) {
      summary.textContent = "No step differs from the successful run.";
    } else {
      summary.textContent = fmtNumber(differing) + " of " + fmtNumber(c.total_steps) + " steps differ" +
                            (c.same_steps ? ", " + fmtNumber(c.same_steps) + " ran the same" : "") + ".";
    }
    box.append(summary);
    if (c.execution_changes.length) box.append(changes(c.execution_changes, 0, "Trigger", "trigger", "trigger"));
    if (c.failing) {
      box.append(h("div", "section-title group-title", "Where it failed"));
      box.append(stepCard(c.failing));
    }
    if (c.steps.length) {
      box.append(h("div", "section-title group-title", c.failing ? "Other steps that differ, in the order they ran"
                                                                  : "Steps that differ, in the order they ran"));
      const list = h("div", "diff-steps");
      for (const s of c.steps) list.append(stepCard(s));
      box.append(list);
    }
    if (c.more_steps) box.append(h("div", "muted more", "… and " + fmtNumber(c.more_steps) + " more steps differ"));
  }
  model.on(["comparison", "message"], draw);
  draw();
  el.append(box);
}
