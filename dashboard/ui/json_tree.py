"""Input and output data as a readable, collapsible JSON tree.

`pn.pane.JSON` renders keys and values as text (json-formatter), so JSON from the
logs is safe in it. A value that is not an object or array, or text that is not JSON
at all, is shown as an escaped text block instead.
"""

from __future__ import annotations

import json

import panel as pn

from .format import text_block

LARGE_JSON = 100_000  # characters; past this the tree opens one level only


def parse(text: str | None):
    """(ok, value): the JSON value of the stored text, or (False, text) when it is not JSON."""
    if text is None:
        return True, None
    try:
        return True, json.loads(text)
    except (TypeError, ValueError):
        return False, text


class JsonTree(pn.viewable.Viewer):
    def __init__(self, text: str | None, *, depth: int = 2, **params):
        super().__init__(**params)
        self.text = text
        ok, value = parse(text)
        if ok and isinstance(value, (dict, list)) and value:
            self.view = pn.pane.JSON(value, depth=1 if len(text) > LARGE_JSON else depth, theme="light",
                                     hover_preview=True, sizing_mode="stretch_width", margin=0,
                                     css_classes=["json-tree"],
                                     stylesheets=[":host { font-size: 12.5px; background: #f8fafc; border: 1px "
                                                  "solid #e2e8f0; border-radius: 8px; padding: 8px 10px; "
                                                  "max-height: 360px; overflow: auto; }"])
        else:
            shown = json.dumps(value, ensure_ascii=False) if ok else text
            self.view = pn.pane.HTML(text_block(shown, "text-block mono"), sizing_mode="stretch_width", margin=0,
                                     stylesheets=[JSON_TEXT_CSS])

    def __panel__(self):
        return self.view


JSON_TEXT_CSS = """
.text-block { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; background: #f8fafc;
              border: 1px solid #e2e8f0; border-radius: 8px; padding: 8px 10px;
              font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace; }
"""
