"""The page header: title, who is signed in, Refresh, and Clear all (after a confirmation
that says how many). Clear all is shown to admins only, and refused to anyone else even
if the click is forged; every attempt goes to the audit log."""

from __future__ import annotations

import panel as pn

from ..auth import Guard
from .confirm import ConfirmDialog
from .format import esc
from .source import LogSource
from .state import LogsState
from .theme import ICONS, asset

TITLE_CSS = asset("header_title.css")

USER_CSS = asset("header_user.css")


BUTTON_CSS = """
.bk-SVGIcon { display: inline-flex; }
.bk-btn { border-radius: 8px; font-weight: 600; padding: 6px 14px; font-size: 14px; display: inline-flex;
          align-items: center; gap: 6px; }
"""


class Header(pn.viewable.Viewer):
    def __init__(self, state: LogsState, source: LogSource, confirm: ConfirmDialog, guard: Guard, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.confirm = confirm
        self.guard = guard
        session = guard.session
        # the user name comes from a login form or an OAuth provider: escaped like any other text
        self.user = pn.pane.HTML(
            f'<div class="user">Signed in as <b class="name">{esc(session.user)}</b>'
            f'<span class="role {esc(session.role)}">{esc(session.role)}</span>'
            '<a class="logout" href="./logout">Log out</a></div>',
            margin=(0, 12), stylesheets=[USER_CSS], visible=session.signed_in, css_classes=["signed-in"])
        self.title = pn.pane.HTML(
            '<div class="title">Execution Logs</div>'
            '<div class="subtitle">Every run of every flow, grouped by flow, most recent activity first.'
            '<span class="live" title="The page refreshes by itself when new events arrive">Live</span></div>',
            margin=0, stylesheets=[TITLE_CSS])
        button = dict(button_style="outline", stylesheets=[BUTTON_CSS], margin=(0, 4), icon_size="16px")
        self.refresh = pn.widgets.Button(label="Refresh", icon=ICONS["refresh"], color="primary",
                                         css_classes=["refresh"], **button)
        self.clear = pn.widgets.Button(label="Clear all", icon=ICONS["trash"], color="danger",
                                       css_classes=["clear-all"], visible=session.is_admin, **button)
        self.refresh.on_click(self._refresh)
        self.clear.on_click(self._ask_clear)

    def _refresh(self, _) -> None:
        self.state.refresh(self.source.change_token())

    async def _ask_clear(self, _) -> None:
        if not self.guard.allows("clear"):
            return
        self.clear.loading = True
        try:
            doomed, running = await self.source.deletable_count()
        finally:
            self.clear.loading = False
        kept = (f" {running:,} running execution{'s are' if running != 1 else ' is'} kept." if running else "")
        if not doomed:
            self.state.tell("There is nothing to clear" + (f":{kept}" if running else "."))
            return
        self.confirm.ask(
            "Clear all execution logs?",
            f"This permanently deletes {doomed:,} execution{'s' if doomed != 1 else ''} and all their steps "
            f"from disk.{kept}",
            detail="This cannot be undone.",
            confirm_label=f"Delete {doomed:,} execution{'s' if doomed != 1 else ''}",
            action=self._clear_all,
        )

    async def _clear_all(self) -> None:
        if not self.guard.allows("clear"):  # the confirmation cannot be forged past the role either
            return
        self.clear.loading = True
        try:
            deleted = await self.source.clear_all()
        except Exception as exc:  # a lock held too long, a full disk: say so
            self.guard.record("clear", f"failed: {exc}")
            self.state.tell(f"Clear all failed: {exc}", "error")
        else:
            self.guard.record("clear", "deleted", count=deleted)
            self.state.tell(f"Deleted {deleted:,} execution{'s' if deleted != 1 else ''}. "
                            "Running executions were kept.", "success")
        finally:
            self.clear.loading = False
        self.state.refresh(self.source.change_token())

    def __panel__(self):
        return pn.Row(self.title, pn.HSpacer(), self.user, self.refresh, self.clear, sizing_mode="stretch_width",
                      margin=(0, 0, 16, 0), styles={"align-items": "center"})
