"""Token-usage reports: the frames, their estimated cost, the charts and the exports.

`notebooks/token_usage.ipynb` and `flowlogs tokens` both build their report here, so
what the notebook shows, what the command prints and what the CSV, JSON and HTML
files hold agree to the token.

    report = TokenReport.load("data/logs", since=dt.date(2026, 11, 1))
    report.by("flow")                 # DataFrame: tokens, AI steps and cost of each flow
    report.totals()                   # dict: the same over the whole range
    report.charts()                   # hvplot charts: daily trend, top flows, nodes, models
    report.save_html("tokens.html", by="day")   # one file that opens without a server

Cost is an estimate from a price table, model -> price per million prompt and completion
tokens: the user's price file (`dashboard.prices`: `prices.toml` in the data directory,
`FLOWLOGS_PRICES`, or a file given to `load`), which the dashboard's Token usage page
reads too. A model the table does not know is shown as "unknown price" and its tokens
are counted in `unpriced_tokens`; it is never priced at zero. `cost_usd` is in the
table's currency (USD unless the price file says otherwise).

Charts and HTML import hvplot and Panel lazily: frames and CSV work without them.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .prices import (
    DEFAULT_PRICES,
    ModelPrice,
    PriceFile,
    Prices,
    PriceSpec,
    format_money,
    price_table,
)
from .queries import TOKEN_GROUPS, LogQueries, parse_time

__all__ = ["DEFAULT_PRICES", "ModelPrice", "Prices", "TokenReport", "UNKNOWN_PRICE", "price_table", "usage_detail"]

UNKNOWN_PRICE = "unknown price"
NO_MODEL = "(no model)"  # how an AI step that named no model is shown; its data keeps the model null
TOKEN_COLUMNS = ["prompt_tokens", "completion_tokens", "total_tokens", "ai_steps"]
COST_COLUMNS = ["cost_usd", "unpriced_tokens", "cost"]
PRICE_COLUMNS = ["prompt_usd_per_1m", "completion_usd_per_1m"]
COST_DIGITS = 6  # costs are rounded to micro-dollars


# ---------------------------------------------------------------------------
# Frames


GROUP_KEYS: dict[str, list[str]] = {by: list(columns) for by, columns in TOKEN_GROUPS.items()}
DETAIL_KEYS = list(dict.fromkeys(k for keys in GROUP_KEYS.values() for k in keys))  # day, flow, node, model


def usage_detail(queries: LogQueries, since=None, until=None) -> pd.DataFrame:
    """Tokens of AI steps at the finest grain the reports need: day x flow x node x model.

    Every grouping of a report (`TokenReport.by`) sums these rows, so all groupings
    share one query and one total: LogQueries.token_usage with every grouping at once.
    """
    frame = queries.token_usage(tuple(TOKEN_GROUPS), since, until)
    for column in TOKEN_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame


def shown_models(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as people read it: an AI step that named no model under NO_MODEL (not "unknown", which
    may be a real model's name); JSON and CSV keep it null."""
    return frame.assign(model=frame["model"].fillna(NO_MODEL)) if "model" in frame else frame


def with_cost(frame: pd.DataFrame, prices: Mapping[str, ModelPrice]) -> pd.DataFrame:
    """Per-row estimated cost of a frame with a `model` column; NaN where the price is unknown."""
    frame = frame.copy()
    prompt = frame["model"].map(lambda m: prices[m].prompt if m in prices else math.nan).astype("float64")
    completion = frame["model"].map(lambda m: prices[m].completion if m in prices else math.nan).astype("float64")
    frame["prompt_usd_per_1m"] = prompt
    frame["completion_usd_per_1m"] = completion
    cost = (frame["prompt_tokens"] * prompt + frame["completion_tokens"] * completion) / 1_000_000
    frame["cost_usd"] = cost.where(frame["total_tokens"] > 0, 0.0)  # no tokens cost nothing, whatever the price
    frame["unpriced_tokens"] = frame["total_tokens"].where(prompt.isna(), 0).astype("int64")
    return frame


def format_usd(value: float) -> str:
    return format_money(value, "USD")


def cost_text(cost_usd: float, unpriced_tokens: int, currency: str = "USD") -> str:
    """The cost as people read it: `$1.23`, `unknown price`, or both when a group mixes models."""
    if unpriced_tokens and (cost_usd is None or math.isnan(cost_usd)):
        return UNKNOWN_PRICE
    if unpriced_tokens:
        return f"{format_money(cost_usd, currency)} + {UNKNOWN_PRICE} for {unpriced_tokens:,} tokens"
    return format_money(0.0 if cost_usd is None or math.isnan(cost_usd) else cost_usd, currency)


def _group(detail: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    sums = {c: "sum" for c in TOKEN_COLUMNS + ["unpriced_tokens"]}
    grouped = detail.groupby(keys, dropna=False, sort=False).agg(sums)
    # min_count=1: a group with no priced tokens has no cost (NaN), not a cost of zero
    grouped["cost_usd"] = detail.groupby(keys, dropna=False, sort=False)["cost_usd"].sum(min_count=1).round(COST_DIGITS)
    return grouped.reset_index()


# ---------------------------------------------------------------------------
# The report


class TokenReport:
    """Token usage and estimated cost of one data root over one time range."""

    def __init__(self, detail: pd.DataFrame, prices: Prices | Mapping[str, PriceSpec] | None = None, *,
                 since=None, until=None):
        """`prices`: a Prices (from a price file, with its currency), a plain dict, or None for DEFAULT_PRICES."""
        if isinstance(prices, Prices):
            self.prices, self.currency = dict(prices.models), prices.currency
        else:
            self.prices, self.currency = price_table(prices), "USD"
        self.since, self.until = since, until
        self.detail = with_cost(detail, self.prices)

    @classmethod
    def load(cls, location: str | os.PathLike, since=None, until=None,
             prices: Prices | Mapping[str, PriceSpec] | str | os.PathLike | None = None) -> TokenReport:
        """The report of a data location (a local folder or an object-store URL) from `since` up to
        `until`: what a notebook calls, opening the location itself.

        Bounds are dates (whole UTC days, `until` inclusive), aware datetimes, or their ISO 8601 text.
        `prices`: a dict or Prices; a path of a price file; None for the location's own price file
        (FLOWLOGS_PRICES, else prices.toml in the location, written with DEFAULT_PRICES if missing).
        A malformed price file raises dashboard.prices.PriceFileError.
        """
        from .logs import open_logs

        return open_logs(location).report(since, until, prices)

    @classmethod
    def of(cls, queries: LogQueries, prices: PriceFile | Prices | Mapping[str, PriceSpec] | str | os.PathLike,
           *, since=None, until=None) -> TokenReport:
        """The report of an open data location's queries, priced by a price file (re-read if it
        changed), a path of one, a Prices or a plain dict."""
        if isinstance(prices, (str, os.PathLike)):
            prices = PriceFile.at(prices)
        if isinstance(prices, PriceFile):
            prices = prices.load()
        since, until = parse_time(since), parse_time(until)
        return cls(usage_detail(queries, since, until), prices, since=since, until=until)

    # -- frames ----------------------------------------------------------------------

    def by(self, by: str = "day") -> pd.DataFrame:
        """Tokens, AI steps and cost grouped like LogQueries.token_usage(by), in the same order."""
        if by not in GROUP_KEYS:
            raise ValueError(f"cannot group tokens by {by!r}; choose one of {', '.join(GROUP_KEYS)}")
        keys = GROUP_KEYS[by]
        frame = _group(self.detail, keys)
        if by == "day":
            frame = frame.sort_values(keys, kind="stable")
        else:
            frame = frame.sort_values(["total_tokens", *keys], ascending=[False] + [True] * len(keys), kind="stable")
        if by == "model":
            frame["prompt_usd_per_1m"] = frame["model"].map(lambda m: self._price(m, "prompt"))
            frame["completion_usd_per_1m"] = frame["model"].map(lambda m: self._price(m, "completion"))
        frame["cost"] = [cost_text(c, u, self.currency)
                         for c, u in zip(frame["cost_usd"], frame["unpriced_tokens"], strict=True)]
        columns = keys + TOKEN_COLUMNS + COST_COLUMNS + (PRICE_COLUMNS if by == "model" else [])
        return frame[columns].reset_index(drop=True)

    def _price(self, model: str, kind: str) -> float:
        price = self.prices.get(model)
        return math.nan if price is None else getattr(price, kind)

    def totals(self) -> dict[str, Any]:
        """The whole range: token sums, priced cost, unpriced tokens and the models without a price."""
        detail = self.detail
        unpriced = detail[detail["unpriced_tokens"] > 0]
        cost = round(float(detail["cost_usd"].sum(min_count=1)), COST_DIGITS) if len(detail) else math.nan
        out: dict[str, Any] = {c: int(detail[c].sum()) for c in TOKEN_COLUMNS + ["unpriced_tokens"]}
        out["cost_usd"] = None if math.isnan(cost) else cost
        out["cost"] = cost_text(cost if len(detail) else 0.0, out["unpriced_tokens"], self.currency)
        out["currency"] = self.currency
        out["unpriced_models"] = sorted(unpriced["model"].fillna(NO_MODEL).unique().tolist())
        out["first_day"], out["last_day"] = self.day_range()
        return out

    def day_range(self) -> tuple[dt.date | None, dt.date | None]:
        """The days the report covers: the range asked for, else the days that have AI steps."""
        first = _as_date(self.since)
        last = _as_date(self.until, end=True)
        if len(self.detail):
            days = pd.to_datetime(self.detail["day"])
            first = first or days.min().date()
            last = last or days.max().date()
        return first, last

    def daily_by_model(self) -> pd.DataFrame:
        """Tokens and cost per day and model, every day of the range present (zeros where none)."""
        frame = _group(shown_models(self.detail), ["day", "model"])
        first, last = self.day_range()
        if first is None or last is None or not len(frame):
            return frame  # no AI steps: no days to fill
        days = pd.date_range(first, last, freq="D").astype(frame["day"].dtype)
        full = pd.MultiIndex.from_product([days, sorted(frame["model"].unique())], names=["day", "model"])
        frame = frame.set_index(["day", "model"]).reindex(full)
        frame[TOKEN_COLUMNS + ["unpriced_tokens"]] = frame[TOKEN_COLUMNS + ["unpriced_tokens"]].fillna(0)
        return frame.reset_index()

    # -- exports ----------------------------------------------------------------------

    def records(self, by: str = "day") -> list[dict]:
        """The rows of `by()` as JSON-ready dicts (dates as YYYY-MM-DD, NaN as None)."""
        frame = _export_frame(self.by(by))
        return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]

    def to_csv(self, by: str = "day", path: str | os.PathLike | None = None) -> str | None:
        """The `by()` frame as CSV (dates as YYYY-MM-DD; an unknown cost is an empty cell). Text cells that a
        spreadsheet would run as a formula get a leading `'` (see `csv_text`)."""
        frame = csv_safe(_export_frame(self.by(by)))
        if path is None:
            return frame.to_csv(index=False, lineterminator="\n")
        frame.to_csv(path, index=False, lineterminator="\n")
        return None

    def to_json(self, by: str = "day") -> str:
        return json.dumps(self.records(by), ensure_ascii=False, indent=2) + "\n"

    def export_csv(self, directory: str | os.PathLike) -> dict[str, Path]:
        """One CSV per grouping, `tokens-by-{day,flow,node,model}.csv`, in directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        for by in GROUP_KEYS:
            paths[by] = directory / f"tokens-by-{by}.csv"
            self.to_csv(by, paths[by])
        return paths

    # -- charts -----------------------------------------------------------------------

    def chart_data(self, top: int = 10) -> dict[str, pd.DataFrame]:
        """The frame behind each chart, by chart name (see `chart`); empty when there are no AI steps."""
        daily = self.daily_by_model()
        if not len(daily):
            return {}
        daily = daily.assign(day=pd.to_datetime(daily["day"]).dt.strftime("%Y-%m-%d"))
        per_day = daily.groupby("day", as_index=False).agg(total_tokens=("total_tokens", "sum"))
        per_day["avg_7d"] = per_day["total_tokens"].rolling(7, min_periods=1).mean()
        cost_day = daily.groupby("day", as_index=False)["cost_usd"].sum(min_count=1)
        nodes = self.by("node").head(top)
        models = shown_models(self.by("model"))
        return {
            "tokens_by_day": daily,
            "trend": per_day,
            "cost_by_day": cost_day,
            "top_flows": self.by("flow").head(top).iloc[::-1],  # barh draws bottom-up: largest on top
            "top_nodes": nodes.assign(node=nodes["flow_name"] + " · " + nodes["node_name"]).iloc[::-1],
            "model_tokens": models,
            "model_cost": models.assign(cost_usd=models["cost_usd"].fillna(0)),
        }

    def charts(self, top: int = 10) -> dict[str, Any]:
        """The report's hvplot charts, by name; the notebook and the HTML report show these."""
        data = self.chart_data(top)
        if not data:
            return {}
        charts = {name: chart(name, data[name], self.currency) for name in REPORT_CHARTS}
        charts["by_model"] = (chart("model_tokens", data["model_tokens"], self.currency, min_width=300)
                              + chart("model_cost", data["model_cost"], self.currency, min_width=300)).cols(2)
        # each chart has its own axes: linked ranges would stretch the daily chart to the top flow's total
        return {name: c.opts(shared_axes=False) for name, c in charts.items()}

    # -- HTML -------------------------------------------------------------------------

    def summary_html(self) -> str:
        """The range, totals and unpriced models as HTML, every value escaped.

        Not Markdown: a model name is log text, and a backtick in it closed its code span, after which
        `![x](https://...)` loaded a remote image into the "offline" report and `[x](https://...)` made a
        link. HTML with html.escape has no such syntax inside a value."""
        totals = self.totals()
        first, last = totals["first_day"], totals["last_day"]
        span = f"{first} to {last}" if first else "no AI steps"
        e = html.escape
        lines = [
            f"<p><b>Range:</b> {e(span)} (UTC days)</p>",
            f"<p><b>Total tokens:</b> {totals['total_tokens']:,} ({totals['prompt_tokens']:,} prompt, "
            f"{totals['completion_tokens']:,} completion) in {totals['ai_steps']:,} AI steps</p>",
            f"<p><b>Estimated cost:</b> {e(totals['cost'])}</p>",
        ]
        if totals["unpriced_models"]:
            names = ", ".join(f"<code>{e(m)}</code>" for m in totals["unpriced_models"])
            lines.append(f"<p>Models without a price (their tokens are not in the cost): {names}</p>")
        return "\n".join(lines)

    def layout(self, by: str = "day", title: str = "Token usage report"):
        """The report as one Panel layout: summary, charts and the `by` table."""
        import panel as pn

        charts = self.charts()
        frame = shown_models(self.by(by))
        table = _export_frame(frame).drop(columns=["cost_usd"])
        # escape=True: flow and node names come from logs and are shown as text, never as HTML
        items = [
            pn.pane.Markdown(f"# {html.escape(title)}", margin=(0, 10)),
            pn.pane.HTML(self.summary_html(), margin=(0, 10), sizing_mode="stretch_width"),
            # one Column each: in a shared Column, Bokeh lines up every plot frame behind the widest axis labels
            *[pn.Column(pn.pane.HoloViews(chart, sizing_mode="stretch_width"), sizing_mode="stretch_width",
                        margin=(10, 10)) for chart in charts.values()],
            pn.pane.Markdown(f"## Tokens by {by}", margin=(10, 10)),
            pn.pane.DataFrame(table, index=False, escape=True, sizing_mode="stretch_width",
                              css_classes=["token-table"], margin=(0, 10)),
            pn.pane.HTML(f"<p>Prices are estimates in {html.escape(self.currency)} per million tokens; models "
                         f"without a price show &quot;{UNKNOWN_PRICE}&quot;. Made by flowlogs on "
                         f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.</p>",
                         styles={"color": "#666"}, margin=(10, 10)),
        ]
        return pn.Column(*items, sizing_mode="stretch_width", max_width=1200)

    def save_html(self, path: str | os.PathLike, by: str = "day", title: str = "Token usage report") -> Path:
        """A standalone HTML file: every script and stylesheet inline, so it opens offline."""
        save_standalone(self.layout(by, title), path, title=title)
        return Path(path)


# ---------------------------------------------------------------------------
# charts


REPORT_CHARTS = ("tokens_by_day", "trend", "cost_by_day", "top_flows", "top_nodes")  # then by_model
DAILY_CHARTS = ("tokens_by_day", "trend", "cost_by_day")


def chart(name: str, frame: pd.DataFrame, currency: str = "USD", **size: Any):
    """One hvplot chart of a `TokenReport.chart_data()` frame (the dashboard redraws them from new frames).

    Hover tooltips name their fields as `@{field}`, which Bokeh escapes: log text stays text.
    """
    # hvPlotTabular(frame) is frame.hvplot without importing hvplot.pandas, whose import (re-run in
    # every notebook cell by hvplot's design) would embed the plotting JavaScript again each time
    from bokeh.models import NumeralTickFormatter
    from hvplot import hvPlotTabular as plot

    wide = {"responsive": True, "min_width": 600, **size}
    money = NumeralTickFormatter(format="0,0.00[0]")  # the axis label names the currency
    if name in DAILY_CHARTS:
        return _daily_chart(plot, name, frame, currency, wide, money)
    if name == "top_flows":
        return plot(frame).barh(
            x="flow_name", y=["prompt_tokens", "completion_tokens"], stacked=True,
            xlabel="", ylabel="tokens", legend="bottom_right", xformatter=NumeralTickFormatter(format="0.[0]a"),
            title=f"Top {len(frame)} flows by tokens",
            **{"height": _bar_height(len(frame)), **wide}).opts(show_grid=True)
    if name == "top_nodes":
        return plot(frame).barh(
            x="node", y="total_tokens", xlabel="", ylabel="tokens", hover_cols=["node_type", "ai_steps", "cost"],
            color="#e76f51", xformatter=NumeralTickFormatter(format="0.[0]a"),
            title=f"Top {len(frame)} nodes by tokens",
            **{"height": _bar_height(len(frame)), **wide}).opts(show_grid=True)
    if name == "model_tokens":
        return plot(frame).bar(
            x="model", y="total_tokens", hover_cols=["prompt_tokens", "completion_tokens", "cost"], rot=0,
            height=300, xlabel="", ylabel="tokens", yformatter="%.0f", title="Tokens by model", color="#264653",
            **wide).opts(show_grid=True)
    if name == "model_cost":
        return plot(frame).bar(
            x="model", y="cost_usd", hover_cols=["cost"], height=300, xlabel="", ylabel=currency, yformatter=money,
            color="#2a9d8f", title="Estimated cost by model (unknown price: no bar)", **wide).opts(show_grid=True)
    raise ValueError(f"no chart named {name!r}")


def _daily_chart(plot, name: str, frame: pd.DataFrame, currency: str, wide: dict, money):
    """A chart of `chart()` with a bar or point per day (labels turned once there are more than 10 days)."""
    rot = 45 if frame["day"].nunique() > 10 else 0
    if name == "tokens_by_day":
        return plot(frame).bar(
            x="day", y="total_tokens", by="model", stacked=True, rot=rot, height=340, ylabel="tokens", xlabel="",
            yformatter="%.0f", legend="right", title="Tokens per day, by model", **wide).opts(show_grid=True)
    if name == "trend":
        trend = (plot(frame).line(x="day", y="total_tokens", label="tokens per day", rot=rot, xlabel="",
                                  ylabel="tokens", yformatter="%.0f", ylim=(0, None), height=300, **wide)
                 * plot(frame).line(x="day", y="avg_7d", label="7-day average", line_dash="dashed", height=300,
                                    **wide))
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        partial = " (the last day is today, so far)" if len(frame) and frame["day"].iat[-1] == today else ""
        return trend.opts(title=f"Daily tokens and 7-day average{partial}", legend_position="bottom_left",
                          show_grid=True)
    if name == "cost_by_day":
        return plot(frame).bar(
            x="day", y="cost_usd", rot=rot, height=300, xlabel="", ylabel=f"{currency} (priced models only)",
            title=f"Estimated cost per day ({currency})", color="#2a9d8f", yformatter=money,
            **wide).opts(show_grid=True)


# ---------------------------------------------------------------------------
# helpers


def save_standalone(viewable, path: str | os.PathLike, title: str) -> None:
    """Save a Panel object as one HTML file that needs no server and no network.

    `viewable.save(resources="inline")` inlines the scripts but still links Panel's
    stylesheets on its CDN (blank styles and console errors offline), so the model is
    rendered in inline mode and its stylesheets are inlined before saving.
    """
    from bokeh.document import Document
    from bokeh.models import UIElement
    from bokeh.resources import INLINE
    from panel.io.model import add_to_doc
    from panel.io.notebook import patch_inline_stylesheets
    from panel.io.resources import set_resource_mode
    from panel.io.save import save

    doc = Document()
    with set_resource_mode("inline"):
        model = viewable.get_root(doc)
    for element in model.select({"type": UIElement}):
        patch_inline_stylesheets(element)
    add_to_doc(model, doc, True)
    buffer = io.StringIO()
    save(doc, buffer, title=title, resources=INLINE)
    # the page icons are the only remaining links to a CDN; an empty data: icon stops any request
    text = _ICON_LINK.sub("", buffer.getvalue()).replace("<head>", '<head>\n<link rel="icon" href="data:,">', 1)
    Path(path).write_text(text, encoding="utf-8")


_ICON_LINK = re.compile(r'<link rel="(?:apple-touch-icon|icon)"[^>]*>')


def _bar_height(bars: int) -> int:
    return max(200, 80 + 26 * bars)


def _as_date(value, end: bool = False) -> dt.date | None:
    """The UTC day of a bound; an exclusive `end` at midnight (the page's ranges) is the day before."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc) if value.tzinfo else value
        if end and value.time() == dt.time() and value.date() > dt.date.min:
            return value.date() - dt.timedelta(days=1)
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Days as YYYY-MM-DD text, the way CSV, JSON and HTML show them."""
    if "day" in frame:
        frame = frame.assign(day=pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d"))
    return frame


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula


def csv_text(value: Any) -> Any:
    """A text cell as a spreadsheet shows it, never runs it: `=HYPERLINK(...)` (a flow or model name from the
    logs) becomes `'=HYPERLINK(...)`, which Excel, LibreOffice and Google Sheets display as text (OWASP's
    advice against CSV injection). Other values are unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column passed through `csv_text`; numbers stay numbers."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(csv_text) for c in text}) if text else frame


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
