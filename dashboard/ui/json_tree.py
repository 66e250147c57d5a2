"""Input and output data as a readable, collapsible JSON tree.

`pn.pane.JSON` renders keys and values as text (json-formatter), so JSON from the
logs is safe in it. A value that is not an object or array, or text that does not read
back as JSON values (not JSON, nested deeper than MAX_JSON_DEPTH, a number out of range:
see `json_values.read_json`), is shown as an escaped text block instead.
"""

from __future__ import annotations

import json

import panel as pn

from ..json_values import UnreadableJson, read_json
from .format import esc, text_block

LARGE_JSON = 100_000  # characters; past this the tree opens one level only


def parse(text: str | None):
    """(ok, value): the JSON value of the stored text, or (False, text) when it does not read back.

    Never raises: a step stored 950 levels deep once made the card fail to open (json.loads took it,
    the pane's own serialisation then ran out of recursion)."""
    value = read_json(text)
    return (False, value) if isinstance(value, UnreadableJson) else (True, value)


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
            note = "" if ok else f'<div class="json-note">Shown as text: {esc(value.reason)}.</div>'
            self.view = pn.pane.HTML(note + text_block(shown, "text-block mono"), sizing_mode="stretch_width",
                                     margin=0, stylesheets=[JSON_TEXT_CSS])

    def __panel__(self):
        return self.view


JSON_TEXT_CSS = """
.json-note { font-size: 12px; color: #64748b; margin: 0 0 4px; }
.text-block { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; background: #f8fafc;
              border: 1px solid #e2e8f0; border-radius: 8px; padding: 8px 10px;
              font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace; }
"""
