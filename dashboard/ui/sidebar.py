"""Navigation between the dashboard's pages: Execution Logs and Token usage.

A click switches `state.page` in place (the URL follows, see page.py), so the range and
the rest of the state stay as they are; each entry is also a real link (`?page=tokens`),
which opens in a new tab with a middle click.
"""

from __future__ import annotations

import json

import param
from panel.custom import JSComponent

from .state import LogsState
from .theme import ICONS as THEME_ICONS

# page key -> (label, icon); our own constants
PAGES = {
    "logs": ("Execution Logs", THEME_ICONS["list"]),
    "tokens": ("Token usage", THEME_ICONS["coin"]),
}

CSS = """
:host { width: 100%; }
.nav { display: flex; flex-direction: column; gap: 2px; padding: 4px 0; font-family: system-ui, sans-serif; }
.section { font-size: 11px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; color: #94a3b8;
           padding: 6px 12px 8px; }
.item { display: flex; align-items: center; gap: 10px; padding: 9px 12px; border-radius: 8px; color: #334155;
        text-decoration: none; font-size: 14px; font-weight: 500; cursor: pointer; }
.item:hover { background: #f1f5f9; }
.item.active { background: #eef2ff; color: #3730a3; font-weight: 600; }
.icon { display: inline-flex; }
"""


class SidebarView(JSComponent):
    """The page links; a plain click sets `value` instead of loading the page again."""

    value = param.String(default="logs", doc="The page shown (a key of PAGES).")

    _esm = f"const PAGES = {json.dumps(PAGES)};\n" + """
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
"""
    _stylesheets = [CSS]


class Sidebar(SidebarView):
    """The page list, two-way bound to `state.page`."""

    def __init__(self, state: LogsState, **params):
        super().__init__(value=state.page, sizing_mode="stretch_width", margin=0, **params)
        self.state = state
        self.param.watch(lambda e: setattr(state, "page", e.new), "value")
        state.param.watch(lambda e: setattr(self, "value", e.new), "page")
