"""Colours, CSS and the JavaScript helpers the components share.

The JavaScript builds every element with `textContent`: a log string never reaches
`innerHTML`, so a flow named `<img onerror=...>` is shown, not run.
"""

from __future__ import annotations

import json

from .format import ACRONYMS, SHORT_TRIGGER_LABELS, STATUS_LABELS, TRIGGER_LABELS

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
    f"""
:host {{ font-family: {SANS}; color: #0f172a; --mono: {MONO}; --muted: #64748b; --line: #e2e8f0;
        --green: #15803d; --red: #dc2626; --accent: #4f46e5; }}
.muted {{ color: var(--muted); }}
.mono {{ font-family: var(--mono); }}
.chip {{ display: inline-flex; align-items: center; gap: 5px; border-radius: 999px; padding: 2px 9px;
         font-size: 12px; font-weight: 600; white-space: nowrap; line-height: 18px; }}
.chip::before {{ content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }}
/* a ring, not a pulse: an endless animation kept Chromium drawing 60 frames a second in every open tab
   (10 idle tabs: 0.73 cores with the pulses, 0.19 without; the ticking durations show it is live) */
.chip.running::before {{ box-shadow: 0 0 0 2px color-mix(in srgb, currentColor 25%, transparent); }}
.sent {{ color: var(--green); font-weight: 600; }}
.failed-count {{ color: var(--red); font-weight: 600; }}
.zero {{ color: #cbd5e1; font-weight: 500; }}
button {{ font: inherit; }}
"""
    + "".join(f".chip.{s} {{ color: {fg}; background: {bg}; }}\n" for s, (fg, bg) in STATUS_COLORS.items())
)


def _js_object(mapping: dict[str, str]) -> str:
    return json.dumps(mapping)


JS_HELPERS = f"""
const STATUS_LABELS = {_js_object(STATUS_LABELS)};
const TRIGGER_LABELS = {_js_object(TRIGGER_LABELS)};
const SHORT_TRIGGER_LABELS = {_js_object(SHORT_TRIGGER_LABELS)};
const ACRONYMS = {_js_object(ACRONYMS)};
const ICONS = {_js_object(ICONS)};
function icon(name) {{ const s = h("span", "icon"); s.innerHTML = ICONS[name] || ""; return s; }}  // constants only

function typeLabel(t) {{
  return String(t || "").split(/[_-]/).filter(Boolean)
    .map(w => ACRONYMS[w.toLowerCase()] || (w[0].toUpperCase() + w.slice(1))).join(" ");
}}

function h(tag, cls, text) {{
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}}

function chip(status) {{
  const c = h("span", "chip " + String(status).replace(/[^a-z_]/g, ""), STATUS_LABELS[status] || status);
  c.setAttribute("data-status", status);
  return c;
}}

function fmtDuration(ms) {{
  if (ms === null || ms === undefined || isNaN(ms)) return "–";
  ms = Math.max(0, ms);
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + " s";
  const m = Math.floor(s / 60), rs = Math.floor(s % 60);
  if (m < 60) return m + "m " + String(rs).padStart(2, "0") + "s";
  const hh = Math.floor(m / 60), rm = m % 60;
  return hh + "h " + String(rm).padStart(2, "0") + "m";
}}

function fmtAgo(ms) {{
  if (ms === null || ms === undefined) return "";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 10) return "just now";
  if (s < 60) return s + " s ago";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min ago";
  const hh = Math.floor(m / 60);
  if (hh < 24) return hh + " h ago";
  const d = Math.floor(hh / 24);
  return d + (d === 1 ? " day ago" : " days ago");
}}

// One formatter each: toLocaleString builds a new one per call, a third of a list's drawing time
const TIME_FORMAT = new Intl.DateTimeFormat("en-GB", {{month: "short", day: "numeric", hour: "2-digit",
                                                      minute: "2-digit", second: "2-digit", hourCycle: "h23"}});
const NUMBER_FORMAT = new Intl.NumberFormat("en-US");
const LOCAL_FORMAT = new Intl.DateTimeFormat(undefined, {{dateStyle: "medium", timeStyle: "medium"}});

function fmtLocal(ms) {{ return LOCAL_FORMAT.format(new Date(ms)); }}

function fmtTime(ms) {{
  if (ms === null || ms === undefined) return "";
  return TIME_FORMAT.format(new Date(ms));
}}

function fmtNumber(n) {{ return NUMBER_FORMAT.format(Number(n || 0)); }}

// The server's clock, as seen from here: "3 min ago" and live durations use it.
function serverClock(model) {{
  const offset = (model.server_now || Date.now()) - Date.now();
  return () => Date.now() + offset;
}}
"""
