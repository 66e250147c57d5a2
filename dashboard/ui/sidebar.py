"""Navigation between the dashboard's pages."""

from __future__ import annotations

import panel as pn
import param

from .theme import ICONS as THEME_ICONS

# (label, path, available). Token usage is the next page to come.
PAGES = [
    ("Execution Logs", "?", True),
    ("Token usage", None, False),
]

ICONS = {"Execution Logs": THEME_ICONS["list"], "Token usage": THEME_ICONS["coin"]}

CSS = """
:host { width: 100%; }
.nav { display: flex; flex-direction: column; gap: 2px; padding: 4px 0; font-family: system-ui, sans-serif; }
.section { font-size: 11px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; color: #94a3b8;
           padding: 6px 12px 8px; }
.item { display: flex; align-items: center; gap: 10px; padding: 9px 12px; border-radius: 8px; color: #334155;
        text-decoration: none; font-size: 14px; font-weight: 500; }
.item:hover { background: #f1f5f9; }
.item.active { background: #eef2ff; color: #3730a3; font-weight: 600; }
.item.soon { color: #94a3b8; cursor: default; }
.item.soon:hover { background: transparent; }
.badge { margin-left: auto; font-size: 11px; color: #94a3b8; border: 1px solid #e2e8f0; border-radius: 999px;
         padding: 0 7px; }
"""


class Sidebar(pn.viewable.Viewer):
    """The page list; our own constant labels only, so plain HTML is safe here."""

    current = param.String(default="Execution Logs")

    def __panel__(self):
        items = ['<nav class="nav" aria-label="Pages"><div class="section">Monitoring</div>']
        for label, path, available in PAGES:
            icon = ICONS.get(label, "")
            if not available:
                items.append(f'<span class="item soon" aria-disabled="true">{icon}{label}'
                             '<span class="badge">soon</span></span>')
            else:
                active = " active" if label == self.current else ""
                current = ' aria-current="page"' if active else ""
                items.append(f'<a class="item{active}" href="{path}"{current}>{icon}{label}</a>')
        items.append("</nav>")
        return pn.pane.HTML("".join(items), sizing_mode="stretch_width", margin=0, stylesheets=[CSS])
