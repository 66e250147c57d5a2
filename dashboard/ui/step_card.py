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
from .theme import BASE_CSS, JS_HELPERS, asset


class StepCardsElement(JSComponent):
    """The step headers of one execution; `bodies[i]` is drawn under step `body_steps[i]` when expanded."""

    steps = param.List(default=[], doc="One dict per step header: index, name, type, status, duration, tokens.")
    expanded = param.List(default=[], doc="Indexes of the steps shown open.")
    bodies = Children()
    body_steps = param.List(default=[], doc="The step index of each of `bodies`.")

    _esm = JS_HELPERS + asset("step_card.js")

    _stylesheets = [BASE_CSS + asset("step_card.css")]

    def __init__(self, on_toggle: Callable[[int], None], **params):
        super().__init__(**params)
        self._on_toggle = on_toggle

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict) and msg.get("action") == "toggle":
            self._on_toggle(int(msg["index"]))


BODY_CSS = BASE_CSS + JSON_TEXT_CSS + asset("step_body.css")


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
        self.view = StepCardsElement(on_toggle, sizing_mode="stretch_width", margin=0, css_classes=["step-cards"])

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
