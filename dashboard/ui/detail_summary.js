// ExecutionSummaryElement (detail_panel.py); JS_HELPERS (helpers.js) comes before it.
export function render({ model, el }) {
  const box = h("div", "summary");
  let clock = serverClock(model);
  let live = null;
  function fact(label, child) {
    const f = h("div", "fact");
    f.append(h("div", "label", label));
    const v = h("div", "value");
    v.append(child);
    f.append(v);
    return f;
  }
  // The head with its close button is built once: the rest is redrawn on every refresh of a
  // live execution, and a button replaced between a press and its release gets no click.
  const top = h("div", "top");
  const title = h("div", "title");
  const flowName = h("div", "flow-name");
  title.append(h("div", "eyebrow", "Execution"), flowName);
  const close = h("button", "close", "×");
  close.title = "Close";
  close.setAttribute("aria-label", "Close details");
  close.addEventListener("click", () => model.send_msg("close"));
  top.append(title, close);
  const body = h("div", "body");
  box.append(top, body);
  function draw() {
    clock = serverClock(model);
    live = null;
    const e = model.execution;
    flowName.textContent = e ? e.flow_name : "Execution";
    body.replaceChildren();
    if (!e) {
      body.append(h("div", "message muted", model.message));
      return;
    }
    const id = h("div", "exec-id mono", e.id);
    id.title = "Execution id";
    body.append(id);
    const facts = h("div", "facts");
    facts.append(fact("Status", chip(e.status)));
    const trig = h("span", null, TRIGGER_LABELS[e.trigger] || e.trigger);
    const tv = h("span");
    tv.append(trig);
    if (e.phone) tv.append(h("span", "phone mono", e.phone));
    facts.append(fact("Trigger", tv));
    facts.append(fact("Started", h("span", null, fmtTime(e.started))));
    const dur = h("span", "mono", e.status === "running" ? fmtDuration(clock() - e.started) : fmtDuration(e.duration));
    if (e.status === "running") { dur.classList.add("live"); live = [dur, e.started]; }
    facts.append(fact("Duration", dur));
    const msgs = h("span");
    msgs.append(h("span", e.sent > 0 ? "sent" : "zero", fmtNumber(e.sent) + " sent"), h("span", "sep", " · "),
                h("span", e.failed > 0 ? "failed-count" : "zero", fmtNumber(e.failed) + " failed"));
    facts.append(fact("Messages", msgs));
    facts.append(fact("Steps", h("span", null, fmtNumber(model.steps))));
    body.append(facts);
    if (e.error) {
      body.append(h("div", "error-title", "Error"));
      body.append(h("pre", "error", e.error));
    }
  }
  model.on(["execution", "message", "steps", "server_now"], draw);
  draw();
  const timer = setInterval(() => { if (live) live[0].textContent = fmtDuration(clock() - live[1]); }, 1000);
  model.on("remove", () => clearInterval(timer));
  el.append(box);
}
