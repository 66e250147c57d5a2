"""The page header: title, Refresh, and Clear all (after a confirmation that says how many)."""

from __future__ import annotations

import panel as pn

from .confirm import ConfirmDialog
from .source import LogSource
from .state import LogsState
from .theme import ICONS

TITLE_CSS = """
.title { font-size: 24px; font-weight: 700; color: #0f172a; letter-spacing: -.01em; }
.subtitle { font-size: 13.5px; color: #64748b; margin-top: 2px; display: flex; align-items: center; gap: 8px; }
.live { display: inline-flex; align-items: center; gap: 6px; color: #15803d; font-weight: 600; font-size: 12px;
        background: #dcfce7; border-radius: 999px; padding: 1px 9px; }
.live::before { content: ""; width: 6px; height: 6px; border-radius: 50%; background: #16a34a;
                animation: pulse 1.6s ease-in-out infinite; }
@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: .3; } }
"""


BUTTON_CSS = """
.bk-SVGIcon { display: inline-flex; }
.bk-btn { border-radius: 8px; font-weight: 600; padding: 6px 14px; font-size: 14px; display: inline-flex;
          align-items: center; gap: 6px; }
"""


class Header(pn.viewable.Viewer):
    def __init__(self, state: LogsState, source: LogSource, confirm: ConfirmDialog, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.confirm = confirm
        self.title = pn.pane.HTML(
            '<div class="title">Execution Logs</div>'
            '<div class="subtitle">Every run of every flow, grouped by flow, most recent activity first.'
            '<span class="live" title="The page refreshes by itself when new events arrive">Live</span></div>',
            margin=0, stylesheets=[TITLE_CSS])
        button = dict(button_style="outline", stylesheets=[BUTTON_CSS], margin=(0, 4), icon_size="16px")
        self.refresh = pn.widgets.Button(label="Refresh", icon=ICONS["refresh"], color="primary",
                                         css_classes=["refresh"], **button)
        self.clear = pn.widgets.Button(label="Clear all", icon=ICONS["trash"], color="danger",
                                       css_classes=["clear-all"], **button)
        self.refresh.on_click(self._refresh)
        self.clear.on_click(self._ask_clear)

    def _refresh(self, _) -> None:
        self.state.refresh(self.source.change_token())

    async def _ask_clear(self, _) -> None:
        self.clear.loading = True
        try:
            doomed, running = await self.source.deletable_count()
        finally:
            self.clear.loading = False
        if not doomed:
            self.state.tell("There is nothing to clear" + (f": {running:,} running executions are kept."
                                                          if running else "."))
            return
        kept = (f" {running:,} running execution{'s are' if running != 1 else ' is'} kept." if running else "")
        self.confirm.ask(
            "Clear all execution logs?",
            f"This permanently deletes {doomed:,} execution{'s' if doomed != 1 else ''} and all their steps "
            f"from disk.{kept}",
            detail="This cannot be undone.",
            confirm_label=f"Delete {doomed:,} execution{'s' if doomed != 1 else ''}",
            action=self._clear_all,
        )

    async def _clear_all(self) -> None:
        self.clear.loading = True
        try:
            deleted = await self.source.clear_all()
        except Exception as exc:  # a lock held too long, a full disk: say so
            self.state.tell(f"Clear all failed: {exc}", "error")
        else:
            self.state.tell(f"Deleted {deleted:,} execution{'s' if deleted != 1 else ''}. "
                            "Running executions were kept.", "success")
        finally:
            self.clear.loading = False
        self.state.refresh(self.source.change_token())

    def __panel__(self):
        return pn.Row(self.title, pn.HSpacer(), self.refresh, self.clear, sizing_mode="stretch_width",
                      margin=(0, 0, 16, 0), styles={"align-items": "center"})
