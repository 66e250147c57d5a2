"""The Token usage page: AI tokens and their estimated cost over the selected range.

Totals, hvplot charts (tokens per day stacked by model, top flows, top nodes, tokens and
cost by model) and a read-only table grouped by day, flow, node or model (`state.by`, in
the URL). The numbers are `TokenReport`'s, the same code path as `flowlogs tokens` and the
notebook, priced from the user's price file (dashboard/prices.py), which is re-read when
it changes. A malformed price file is reported on the page; tokens are then shown without
cost. A model missing from the price table is "unknown price", never zero.

Reloads on every `state.revision` (auto-refresh) and range change. Charts are DynamicMaps
fed through Pipes, so new data updates the plots in place instead of redrawing them, and
the table keeps the user's sort. Log text (flow, node, model names) reaches the browser
as Tabulator cells, chart axes and Bokeh tooltips (`@{field}`, escaped by Bokeh), or
escaped with html.escape: never as HTML.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import math
from dataclasses import dataclass, field
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
from bokeh.models.widgets.tables import NumberFormatter
from panel.io.model import JSCode

from ..prices import PriceFile, PriceFileError, Prices, format_money
from ..reports import UNKNOWN_PRICE, TokenReport, shown_models
from .loader import Loader
from .range_picker import RangePicker
from .source import LogSource
from .state import RANGES, LogsState
from .theme import ICONS, SANS, asset

PRICE_CHECK_MS = 1000  # a stat() of the price file: an edit shows within a second
TOP = 10  # flows and nodes in their charts
PAGE_CHARTS = ("tokens_by_day", "top_flows", "top_nodes", "model_tokens", "model_cost")
GROUP_LABELS = {"day": "Day", "flow": "Flow", "node": "Node", "model": "Model"}
COLUMN_TITLES = {
    "day": "Day", "flow_name": "Flow", "node_id": "Node id", "node_name": "Node", "node_type": "Node type",
    "model": "Model",
    "prompt_tokens": "Prompt tokens", "completion_tokens": "Completion tokens", "total_tokens": "Total tokens",
    "ai_steps": "AI steps", "cost_usd": "Estimated cost", "unpriced_tokens": "Unpriced tokens",
    "prompt_usd_per_1m": "Prompt price / 1M", "completion_usd_per_1m": "Completion price / 1M",
}
INTEGER = NumberFormatter(format="0,0", text_align="right")
MONEY_COLUMNS = ("cost_usd", "prompt_usd_per_1m", "completion_usd_per_1m")
SHOWN = "__shown"  # a hidden column beside each money column: its text as the report writes it
# A money cell shows that text ($0.49, $0.0042, "unknown price", "$1.20 + unknown price for 3,400 tokens": the
# report's `cost`, the same words as `flowlogs tokens`) while its number keeps the column sorting by amount.
# A text node, never HTML.
SHOWN_TEXT = JSCode("function(cell) { const text = cell.getRow().getData()[cell.getField() + '" + SHOWN + "'];"
                    " return document.createTextNode(text == null ? '' : String(text)); }")
# Charts without wheel zoom: the mouse wheel over a chart scrolls the page, as everywhere else on it.
CHART_TOOLS = ["save", "pan", "box_zoom", "reset"]

CSS = f":host {{ font-family: {SANS}; }}\n" + asset("token_page.css")
CARD = {"background": "#fff", "border": "1px solid #e2e8f0", "border-radius": "12px", "padding": "6px"}


@dataclass
class TokenPageData:
    """What one load produced: everything the page shows, computed off the event loop."""

    totals: dict[str, Any]
    table: pd.DataFrame
    by: str
    charts: dict[str, pd.DataFrame] = field(default_factory=dict)
    prices: Prices | None = None
    price_error: str = ""


class TokenPage(pn.viewable.Viewer):
    """The page; `state.page == "tokens"` shows it (ui/page.py), `state.by` groups its table."""

    def __init__(self, state: LogsState, source: LogSource, prices: PriceFile, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.prices = prices
        self._price_signature = self.prices.signature()
        self._currency: str | None = None
        self.shown: TokenPageData | None = None

        self.heading = pn.pane.HTML(self._heading_html(), margin=0, stylesheets=[CSS])
        self.refresh = pn.widgets.Button(label="Refresh", icon=ICONS["refresh"], button_style="outline",
                                         color="primary", css_classes=["token-refresh"], margin=(0, 4))
        self.refresh.on_click(lambda _: self.state.refresh(self.source.change_token()))
        self.totals = pn.pane.HTML("", margin=(0, 0, 14, 0), sizing_mode="stretch_width", stylesheets=[CSS],
                                   css_classes=["token-totals"])
        self.price_note = pn.pane.HTML("", margin=(0, 0, 12, 0), sizing_mode="stretch_width", stylesheets=[CSS],
                                       css_classes=["token-prices"])
        self.empty = pn.pane.HTML('<div class="empty">No AI steps in this range.</div>', visible=False,
                                  sizing_mode="stretch_width", stylesheets=[CSS], css_classes=["token-empty"])
        self._build_charts()
        self.group = pn.widgets.RadioButtonGroup(
            options={label: by for by, label in GROUP_LABELS.items()}, value=state.by, button_style="outline",
            color="primary", css_classes=["token-group"], margin=(0, 0, 8, 0))
        self.group.param.watch(lambda e: setattr(self.state, "by", e.new), "value")
        self.table = self._new_table(pd.DataFrame(), {}, {})
        self.table_slot = pn.Column(self.table, sizing_mode="stretch_width", margin=0)
        self.layout = pn.Column(
            pn.Row(self.heading, pn.HSpacer(), self.refresh, sizing_mode="stretch_width", margin=(0, 0, 12, 0),
                   styles={"align-items": "center"}),
            pn.Row(RangePicker(state), sizing_mode="stretch_width", margin=(0, 0, 14, 0)),
            self.totals, self.price_note, self.empty, self.charts,
            pn.Row(pn.pane.HTML('<div class="title" style="font-size:17px">Tokens by</div>', stylesheets=[CSS],
                                margin=(4, 12, 0, 0)), self.group, margin=(6, 0, 0, 0)),
            self.table_slot,
            sizing_mode="stretch_width", margin=(4, 8), css_classes=["token-usage"])

        self.loader = Loader(self._load, self._show, on_shown=source.shown, spinner=self.layout,
                             on_error=lambda exc: state.tell(f"Could not load the token usage: {exc}", "error"))
        state.param.watch(self._data_changed, ["revision", "range", "since", "until"])
        state.param.watch(self._page_changed, "page")
        state.param.watch(self._by_changed, "by")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.price_check = pn.state.add_periodic_callback(self._check_prices, period=PRICE_CHECK_MS)

    def _build_charts(self) -> None:
        """The chart panes, each fed by a Pipe, in cards: tokens per day on top, then two rows of two."""
        self.pipes = {name: hv.streams.Pipe(data=[]) for name in PAGE_CHARTS}
        self.chart_panes = {name: pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=0,
                                                    css_classes=[f"chart-{name.replace('_', '-')}"])
                            for name in PAGE_CHARTS}
        card = dict(sizing_mode="stretch_width", styles=CARD, margin=(0, 0, 14, 0))
        half = dict(sizing_mode="stretch_width", styles=CARD, margin=(0, 0, 14, 0), min_width=380)
        # a card (Column) per chart; hiding a HoloViews pane itself trips Panel 1.9, hiding its card does not
        self.cards = {name: pn.Column(pane, **(card if name == "tokens_by_day" else half))
                      for name, pane in self.chart_panes.items()}
        self.charts = pn.Column(
            self.cards["tokens_by_day"],
            pn.Row(self.cards["top_flows"], pn.Spacer(width=14), self.cards["top_nodes"], sizing_mode="stretch_width",
                   margin=0),
            pn.Row(self.cards["model_tokens"], pn.Spacer(width=14), self.cards["model_cost"],
                   sizing_mode="stretch_width", margin=0),
            sizing_mode="stretch_width", margin=0, visible=False)

    # -- when to load -------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.state.page == "tokens"

    def _data_changed(self, *events) -> None:  # several at once when a link sets range and bounds together
        user_asked = any(e.name != "revision" for e in events)
        if user_asked:
            self.heading.object = self._heading_html()
        if self.active:
            self.loader.request(spin=user_asked,  # the auto-refresh never shows a spinner
                                auto=not user_asked and self.state.auto_refreshed)

    def _page_changed(self, event=None) -> None:
        if self.active:
            self.heading.object = self._heading_html()
            self.loader.request(spin=self.shown is None)

    def _by_changed(self, event) -> None:
        self.group.value = event.new
        if self.active:
            self.loader.request(spin=True)

    def _check_prices(self) -> None:
        """An edited price file applies at once, even when no new events arrive."""
        signature = self.prices.signature()
        if signature != self._price_signature:
            self._price_signature = signature
            if self.active:
                self.loader.request()

    # -- loading (off the event loop) ---------------------------------------------------------

    async def _load(self) -> TokenPageData:
        since, until = self.state.bounds()
        return await asyncio.to_thread(self.compute, since, until, self.state.by)

    def compute(self, since: dt.datetime | None, until: dt.datetime | None, by: str) -> TokenPageData:
        """The page's numbers for a range: TokenReport over the (cached) usage of the range."""
        # cached per change token and range: sessions looking at the same range share one query
        detail = self.source.token_usage_detail(since, until)
        try:
            prices, error = self.prices.load(), ""
        except PriceFileError as exc:
            prices, error = None, str(exc)
        report = TokenReport(detail, prices if prices is not None else {}, since=since, until=until)
        return TokenPageData(totals=report.totals(), table=shown_models(report.by(by)), by=by,
                         charts=report.chart_data(TOP), prices=prices, price_error=error)

    # -- showing ------------------------------------------------------------------------------

    def _show(self, view: TokenPageData) -> None:
        self.shown = view
        currency = view.prices.currency if view.prices else "USD"
        self.totals.object = self._totals_html(view)
        self.price_note.object = self._prices_html(view)
        has_data = bool(view.charts)
        self.empty.visible = not has_data
        self.charts.visible = has_data
        if has_data:
            if currency != self._currency:  # the axis labels name the currency: draw the charts anew
                self._currency = currency
                for name in PAGE_CHARTS:
                    self.pipes[name] = hv.streams.Pipe(data=view.charts[name])
                    self.chart_panes[name].object = self._dynamic_chart(name, currency)
            else:
                for name in PAGE_CHARTS:
                    self.pipes[name].send(view.charts[name])
        self.cards["model_cost"].visible = not view.price_error
        self._show_table(view)

    def _dynamic_chart(self, name: str, currency: str):
        from ..reports import chart

        def draw(data):
            drawn = chart(name, data, currency, min_width=300 if name != "tokens_by_day" else 600)
            return drawn.opts(default_tools=CHART_TOOLS, active_tools=["pan"])

        # framewise: the axes follow each new frame (more days, another top flow)
        return hv.DynamicMap(draw, streams=[self.pipes[name]]).opts(framewise=True, shared_axes=False, axiswise=True)

    def _show_table(self, view: TokenPageData) -> None:
        frame = view.table.copy()
        if "day" in frame:
            frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
        if view.price_error:  # no prices: the tokens alone, no cost columns that would all read "unknown"
            frame = frame.drop(columns=[c for c in frame if c in ("cost_usd", "unpriced_tokens", "cost")
                                        or c.endswith("_per_1m")])
        else:
            frame = frame.rename(columns={"cost": "cost_usd" + SHOWN})
            for column in ("prompt_usd_per_1m", "completion_usd_per_1m"):
                if column in frame:
                    frame[column + SHOWN] = [UNKNOWN_PRICE if pd.isna(v) else view.prices.format(v)
                                             for v in frame[column]]
        formatters = {c: INTEGER for c in ("prompt_tokens", "completion_tokens", "total_tokens", "ai_steps",
                                           "unpriced_tokens") if c in frame}
        formatters.update({c: SHOWN_TEXT for c in MONEY_COLUMNS if c in frame})
        titles = {c: COLUMN_TITLES.get(c, c) for c in frame}
        if "cost_usd" in frame:
            titles["cost_usd"] = f"Estimated cost ({view.prices.currency})"
        same_columns = list(frame.columns) == list(self.table.value.columns)
        if not same_columns or titles != self.table.titles:  # another grouping, price file state or currency
            # A new table, not new columns on the shown one: the browser's Tabulator rebuilds itself when its
            # columns change, and the data sent while it rebuilt was lost (the table stayed grouped by day).
            sorters = self.table.sorters if same_columns else []  # a sort by a column the new grouping has not
            self.table = self._new_table(frame, titles, formatters, sorters)
            self.table_slot.objects = [self.table]
        elif not frame.equals(self.table.value):
            # only the data: Tabulator keeps the user's sort and page. Titles and formatters stay as they are
            # (formatters are Bokeh models, never equal to param, so setting them would rebuild the columns).
            self.table.value = frame

    @staticmethod
    def _new_table(frame: pd.DataFrame, titles: dict, formatters: dict, sorters: list | None = None):
        return pn.widgets.Tabulator(
            frame, titles=titles, formatters=formatters, sorters=list(sorters or []), disabled=True,
            show_index=False, pagination="local", page_size=25, layout="fit_data_stretch",
            hidden_columns=[c for c in frame if c.endswith(SHOWN)],
            text_align={c: "right" for c in MONEY_COLUMNS if c in frame},
            sizing_mode="stretch_width", css_classes=["token-table"], selectable=False, margin=0)

    # -- HTML of our own (log text escaped) ---------------------------------------------------

    def _heading_html(self) -> str:
        return ('<div class="title">Token usage</div>'
                f'<div class="subtitle">AI tokens and their estimated cost · <span class="range">'
                f'{html.escape(self._range_label())}</span> (UTC)</div>')

    def _range_label(self) -> str:
        state = self.state
        if state.range != "custom":
            return RANGES[state.range][0]
        since, until = state.since.strip(), state.until.strip()
        if since and until:
            return f"{since} to {until}"
        return f"from {since}" if since else f"up to {until}" if until else "All kept"

    def _totals_html(self, view: TokenPageData) -> str:
        t = view.totals
        cards = [
            ("total_tokens", "Total tokens", f"{t['total_tokens']:,}", ""),
            ("prompt_tokens", "Prompt tokens", f"{t['prompt_tokens']:,}", ""),
            ("completion_tokens", "Completion tokens", f"{t['completion_tokens']:,}", ""),
            ("ai_steps", "AI steps", f"{t['ai_steps']:,}", ""),
        ]
        if view.price_error:
            cards.append(("cost", "Estimated cost", "—", '<div class="note unpriced">the price file has an error'
                                                            '</div>'))
        else:
            cost = t["cost_usd"]
            value = format_money(0.0 if cost is None or math.isnan(cost) else cost, t["currency"])
            if t["unpriced_tokens"] and cost is None:
                value = "unknown price"
            note = ""
            if t["unpriced_tokens"]:
                models = ", ".join(t["unpriced_models"])
                note = (f'<div class="note unpriced" title="{html.escape(models)}">+ {t["unpriced_tokens"]:,} '
                        f'tokens of unpriced models ({html.escape(models)})</div>')
            cards.append(("cost", "Estimated cost", value, note))
        body = "".join(f'<div class="total" data-total="{key}"><div class="label">{label}</div>'
                       f'<div class="value">{value}</div>{note}</div>' for key, label, value, note in cards)
        return f'<div class="totals">{body}</div>'

    def _prices_html(self, view: TokenPageData) -> str:
        path = html.escape(str(self.prices.path))
        if view.price_error:
            return (f'<div class="price-error" role="alert"><b>The price file cannot be used</b>: '
                    f'{html.escape(view.price_error)}. Tokens are shown without cost until the file is fixed; '
                    'the page picks up the fix by itself.</div>')
        prices = view.prices
        if prices.path is None:
            source = "the built-in list prices (the data location has no price file yet)"
        elif self.prices.default_location:
            source = f'<code title="{path}">{html.escape(self.prices.name)}</code> in the data location'
        else:
            source = f"<code>{path}</code>"
        return (f'<div class="prices">Estimated cost from {source}, in {html.escape(prices.currency)} per million '
                'prompt and completion tokens. Models missing from it are shown as “unknown price”, never as free. '
                'Edit the file to change prices: the page updates by itself.</div>')

    def __panel__(self):
        return self.layout
