"""One step (node) of an execution in the detail panel.

Collapsed: index, node name and type, status (failed in red), duration, and the
tokens of an AI step. Expanded: system and user prompt, AI reply, warnings, error,
and the input and output data as JSON trees. Every log string is escaped before it
reaches the HTML pane; the header draws with textContent.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param
from panel.custom import Children, JSComponent

from .format import STATUS_LABELS, esc, node_type_label, plain, step_item, text_block
from .json_tree import JSON_TEXT_CSS, JsonTree
from .theme import BASE_CSS, JS_HELPERS


class StepCardsView(JSComponent):
    """The step headers of one execution; `bodies[i]` is drawn under step `body_steps[i]` when expanded."""

    steps = param.List(default=[], doc="One dict per step header: index, name, type, status, duration, tokens.")
    expanded = param.List(default=[], doc="Indexes of the steps shown open.")
    bodies = Children()
    body_steps = param.List(default=[], doc="The step index of each of `bodies`.")

    _esm = JS_HELPERS + """
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
"""

    _stylesheets = [BASE_CSS + """
:host { width: 100%; }
.step-card { border-bottom: 1px solid #eef2f6; }
.step-card:last-child { border-bottom: 0; }
.step-card.expanded { background: #fcfcfe; }
.step { display: flex; align-items: center; gap: 10px; padding: 10px 16px; cursor: pointer; user-select: none; }
.step:hover { background: #f8fafc; }
.step:focus-visible { outline: 2px solid #6366f1; outline-offset: -2px; }
.index { flex: none; width: 24px; height: 24px; border-radius: 50%; background: #f1f5f9; color: #475569;
         display: inline-flex; align-items: center; justify-content: center; font-size: 12px; font-weight: 600; }
.step.failed .index { background: #fee2e2; color: #b91c1c; }
.step.failed .node-name { color: #b91c1c; }
.step.skipped .node-name { color: #94a3b8; }
.names { display: flex; flex-direction: column; min-width: 0; flex: 1; }
.node-name { font-weight: 600; font-size: 13.5px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.node-type { font-size: 12px; color: var(--muted); }
.tokens { font-size: 12px; color: #6d28d9; background: #f3e8ff; padding: 2px 8px; border-radius: 999px;
          white-space: nowrap; font-weight: 600; }
.warn-badge { font-size: 12px; color: #b45309; background: #fef3c7; padding: 2px 7px; border-radius: 999px; }
.duration { font-size: 12px; color: #475569; min-width: 56px; text-align: right; }
.chevron { color: #94a3b8; font-size: 18px; width: 14px; text-align: center; transition: transform .15s; }
.step.expanded .chevron { transform: rotate(90deg); color: #4f46e5; }
"""]

    def __init__(self, on_toggle: Callable[[int], None], **params):
        super().__init__(**params)
        self._on_toggle = on_toggle

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict) and msg.get("action") == "toggle":
            self._on_toggle(int(msg["index"]))


BODY_CSS = BASE_CSS + JSON_TEXT_CSS + """
:host { width: 100%; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 12.5px; margin: 0 0 6px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.section-title { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em;
                 color: #475569; margin: 12px 0 5px; }
.text-block { max-height: 260px; overflow: auto; font-family: inherit; font-size: 13px; line-height: 1.45; }
.text-block.prompt { background: #f8fafc; }
.text-block.reply { background: #f5f3ff; border-color: #ddd6fe; }
.text-block.error { background: #fef2f2; border-color: #fecaca; color: #991b1b;
                    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.warnings { margin: 0; padding: 8px 10px 8px 28px; background: #fffbeb; border: 1px solid #fde68a;
            border-radius: 8px; color: #92400e; font-size: 13px; }
"""


def _duration(ms) -> str:
    if ms is None:
        return "–"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _time(ts) -> str:
    return "" if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def step_details_html(step: dict) -> str:
    """Facts, prompts, reply, warnings and error of a step, every value escaped."""
    item = step_item(step)
    facts = [
        ("Node", esc(item["node_name"])),
        ("Type", f'{esc(node_type_label(item["node_type"]))} '
                 f'<span class="muted mono">({esc(item["node_type"])})</span>'),
        ("Node id", f'<span class="mono">{esc(step.get("node_id"))}</span>'),
        ("Status", f'<span class="chip {esc(item["status"])}">{esc(STATUS_LABELS.get(item["status"], item["status"]))}'
                   "</span>"),
        ("Duration", esc(_duration(item["duration"]))),
        ("Started", f'<span class="mono">{esc(_time(plain(step.get("started_at"))))}</span>'),
    ]
    if item["ai"]:
        facts.append(("Model", f'<span class="mono">{esc(item["model"] or "unknown")}</span>'))
        facts.append(("Tokens", esc(f'{item["prompt_tokens"] + item["completion_tokens"]:,} '
                                    f'({item["prompt_tokens"]:,} prompt + {item["completion_tokens"]:,} completion)')))
    parts = ['<dl class="facts">', *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts), "</dl>"]
    if step.get("error"):
        parts += ['<div class="section-title">Error message</div>', text_block(step["error"], "text-block error")]
    warnings = [w for w in (step.get("warnings") or []) if w]
    if warnings:
        parts += ['<div class="section-title">Warnings</div>', '<ul class="warnings">',
                  *(f"<li>{esc(w)}</li>" for w in warnings), "</ul>"]
    for key, title, css in (("system_prompt", "System prompt", "prompt"), ("user_prompt", "User prompt", "prompt"),
                            ("ai_reply", "AI reply", "reply")):
        if step.get(key) is not None:
            parts += [f'<div class="section-title">{title}</div>', text_block(step[key], f"text-block {css}")]
    return "".join(parts)


def _section(title: str) -> pn.pane.HTML:
    return pn.pane.HTML(f'<div class="section-title">{title}</div>', margin=0, stylesheets=[BODY_CSS])


def step_body(step: dict) -> pn.Column:
    parts: list = [pn.pane.HTML(step_details_html(step), sizing_mode="stretch_width", margin=0,
                                stylesheets=[BODY_CSS], css_classes=["step-details"])]
    for key, title in (("input", "Input data"), ("output", "Output data")):
        parts.append(_section(title))
        if step.get(key) is None:
            parts.append(pn.pane.HTML('<span class="muted">none</span>', margin=0, stylesheets=[BODY_CSS]))
        else:
            parts.append(JsonTree(step[key]))
    return pn.Column(*parts, sizing_mode="stretch_width", margin=(0, 14, 14, 46), css_classes=["step-body"])


class StepCards(pn.viewable.Viewer):
    """The steps of the open execution; a step's details are built when it is first expanded."""

    def __init__(self, on_toggle: Callable[[int], None], **params):
        super().__init__(**params)
        self.bodies: dict[int, tuple[dict, pn.Column]] = {}  # index -> (the step it shows, its body)
        self.view = StepCardsView(on_toggle, sizing_mode="stretch_width", margin=0, css_classes=["step-cards"])

    def show(self, steps: list[dict], expanded: list[int]) -> None:
        """Draw these steps with these expanded; the body of a step whose data did not change is kept."""
        by_index = {int(s["index"]): s for s in steps}
        for index, (step, _) in list(self.bodies.items()):
            if by_index.get(index) != step:
                del self.bodies[index]  # re-delivered with new data, or gone: rebuilt when shown
        open_steps = [i for i in expanded if i in by_index]
        for index in open_steps:
            if index not in self.bodies:
                self.bodies[index] = (by_index[index], step_body(by_index[index]))
        bodies = [self.bodies[i][1] for i in open_steps]
        update = dict(steps=[step_item(s) for s in steps], expanded=open_steps)
        if [id(b) for b in self.view.bodies] != [id(b) for b in bodies]:
            update.update(bodies=bodies, body_steps=open_steps)
        self.view.param.update(**update)

    def clear(self) -> None:
        self.bodies = {}
        self.view.param.update(steps=[], expanded=[], bodies=[], body_steps=[])

    def __panel__(self):
        return self.view
