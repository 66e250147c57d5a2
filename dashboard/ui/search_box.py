"""The search box: flow name, phone number, execution id, or words of errors and AI replies."""

from __future__ import annotations

import panel as pn

from .state import LogsState

PLACEHOLDER = "Search flow, phone number, execution id, error or AI reply…"


class SearchBox(pn.viewable.Viewer):
    """Searches on Enter (or when the box loses focus); an empty box shows everything again."""

    def __init__(self, state: LogsState, **params):
        super().__init__(**params)
        self.state = state
        self.input = pn.widgets.TextInput(value=state.search, placeholder=PLACEHOLDER, width=380, margin=(0, 4),
                                          css_classes=["search-box"], description=None)
        self.clear = pn.widgets.Button(label="Clear", button_style="outline", color="light", margin=(0, 4),
                                       css_classes=["search-clear"], visible=bool(state.search))
        self.input.param.watch(lambda e: setattr(state, "search", e.new.strip()), "value")
        self.clear.on_click(lambda _: setattr(state, "search", ""))
        state.param.watch(self._searched, "search")

    def _searched(self, event) -> None:
        if self.input.value.strip() != event.new:
            self.input.value = event.new
        self.clear.visible = bool(event.new)

    def __panel__(self):
        return pn.Row(self.input, self.clear, margin=0, styles={"align-items": "center"})
