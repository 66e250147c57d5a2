"""Colours, CSS and the JavaScript helpers the components share.

The JavaScript and CSS are files beside the components (helpers.js, base.css, filter_tabs.js, ...):
`asset(name)` reads one. Python constants the browser needs (labels, icons, colours, fonts) are
written into the text from Python, before or after the file's.

The JavaScript builds every element with `textContent`: a log string never reaches
`innerHTML`, so a flow named `<img onerror=...>` is shown, not run.
"""

from __future__ import annotations

import functools
import importlib.resources
import json

from .format import ACRONYMS, SHORT_TRIGGER_LABELS, STATUS_LABELS, TRIGGER_LABELS


@functools.cache
def asset(name: str) -> str:
    """The text of a .js or .css file of this package (dashboard/ui/), read once."""
    return importlib.resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


STATUS_COLORS = {
    "running": ("#1d4ed8", "#dbeafe"),
    "completed": ("#15803d", "#dcfce7"),
    "failed": ("#b91c1c", "#fee2e2"),
    "completed_with_errors": ("#b45309", "#fef3c7"),
    "cancelled": ("#475569", "#e2e8f0"),
    "skipped": ("#64748b", "#f1f5f9"),
}

def svg(body: str, size: int = 14) -> str:
    """A stroke icon (our own constant markup, never log text)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 24 24" '
            f'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">{body}</svg>')


ICONS = {
    "schedule": svg('<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>'),
    "manual": svg('<path d="M8 5l11 7-11 7z"/>'),
    "incoming_message": svg('<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/>'),
    "trash": svg('<path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>', 16),
    "refresh": svg('<path d="M20 11a8 8 0 1 0-2 5.3"/><path d="M20 4v7h-7"/>', 16),
    "list": svg('<path d="M4 6h16M4 12h16M4 18h10"/>', 18),
    "coin": svg('<circle cx="12" cy="12" r="8"/><path d="M12 8v8M9 11h6"/>', 18),
}

MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace"
SANS = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

BASE_CSS = (
    f":host {{ font-family: {SANS}; --mono: {MONO}; }}\n"
    + asset("base.css")
    + "".join(f".chip.{s} {{ color: {fg}; background: {bg}; }}\n" for s, (fg, bg) in STATUS_COLORS.items())
)

# Python's names and labels as JavaScript constants, then the functions that use them
JS_CONSTANTS = {"STATUS_LABELS": STATUS_LABELS, "TRIGGER_LABELS": TRIGGER_LABELS,
                "SHORT_TRIGGER_LABELS": SHORT_TRIGGER_LABELS, "ACRONYMS": ACRONYMS, "ICONS": ICONS}
JS_HELPERS = ("".join(f"const {name} = {json.dumps(value)};\n" for name, value in JS_CONSTANTS.items())
              + asset("helpers.js"))
