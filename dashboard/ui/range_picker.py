"""The time range of the page: preset buttons, and two bounds for a custom range."""

from __future__ import annotations

import panel as pn

from ..queries import parse_time
from .state import RANGES, LogsState

CSS = """
:host { margin: 0; }
.bk-btn-group .bk-btn { font-size: 13px; padding: 5px 11px; }
"""
BOUND_HELP = "A date (2026-11-01) or a time (2026-11-01T08:00), UTC"


class RangePicker(pn.viewable.Viewer):
    """Presets (last hour … 30 days, all kept, custom); the custom bounds appear with 'Custom'."""

    def __init__(self, state: LogsState, **params):
        super().__init__(**params)
        self.state = state
        self.presets = pn.widgets.RadioButtonGroup(
            options={label: key for key, (label, _) in RANGES.items()}, value=state.range,
            button_type="light", button_style="outline", stylesheets=[CSS], margin=(0, 8, 0, 0),
            css_classes=["range-presets"])
        bound = dict(width=190, margin=(0, 4), placeholder="2026-11-01 or 2026-11-01T08:00")
        self.since = pn.widgets.TextInput(value=state.since, name="", description=f"From. {BOUND_HELP}",
                                          css_classes=["range-since"], **bound)
        self.until = pn.widgets.TextInput(value=state.until, name="", description=f"Until (a date covers its "
                                          f"whole day). {BOUND_HELP}", css_classes=["range-until"], **bound)
        self.problem = pn.pane.Str("", margin=(6, 4), styles={"color": "#b91c1c", "font-size": "12.5px"},
                                   css_classes=["range-problem"])  # our own message, built from a fixed text
        self.custom = pn.Row(pn.pane.HTML("<span>From</span>", margin=(8, 2)), self.since,
                             pn.pane.HTML("<span>until</span>", margin=(8, 2)), self.until, self.problem,
                             visible=state.range == "custom", margin=0)
        self.presets.param.watch(lambda e: setattr(state, "range", e.new), "value")
        self.since.param.watch(lambda e: self._bound_typed("since", e.new), "value")
        self.until.param.watch(lambda e: self._bound_typed("until", e.new), "value")
        state.param.watch(self._state_changed, ["range", "since", "until"])
        self._check()

    def _bound_typed(self, name: str, text: str) -> None:
        setattr(self.state, name, text.strip())

    def _state_changed(self, *_) -> None:
        self.presets.value = self.state.range
        self.since.value, self.until.value = self.state.since, self.state.until
        self.custom.visible = self.state.range == "custom"
        self._check()

    def _check(self) -> None:
        """Say which bound cannot be read; the range stays open on that side meanwhile."""
        wrong = []
        for label, text in (("From", self.state.since), ("Until", self.state.until)):
            try:
                parse_time(text) if text else None
            except ValueError:
                wrong.append(label)
        self.problem.object = (f"{' and '.join(wrong)}: not a date or time ({BOUND_HELP})." if wrong else "")

    def __panel__(self):
        return pn.Row(self.presets, self.custom, margin=0, styles={"align-items": "center", "flex-wrap": "wrap"})
