// JS_HELPERS (theme.py): the functions most components' .js files use, after the constants STATUS_LABELS,
// TRIGGER_LABELS, SHORT_TRIGGER_LABELS, ACRONYMS and ICONS, which theme.py writes from Python.
function icon(name) { const s = h("span", "icon"); s.innerHTML = ICONS[name] || ""; return s; }  // constants only

function typeLabel(t) {
  return String(t || "").split(/[_-]/).filter(Boolean)
    .map(w => ACRONYMS[w.toLowerCase()] || (w[0].toUpperCase() + w.slice(1))).join(" ");
}

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function chip(status) {
  const c = h("span", "chip " + String(status).replace(/[^a-z_]/g, ""), STATUS_LABELS[status] || status);
  c.setAttribute("data-status", status);
  return c;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined || isNaN(ms)) return "–";
  ms = Math.max(0, ms);
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + " s";
  const m = Math.floor(s / 60), rs = Math.floor(s % 60);
  if (m < 60) return m + "m " + String(rs).padStart(2, "0") + "s";
  const hh = Math.floor(m / 60), rm = m % 60;
  return hh + "h " + String(rm).padStart(2, "0") + "m";
}

function fmtAgo(ms) {
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
}

// One formatter each: toLocaleString builds a new one per call, a third of a list's drawing time
const TIME_FORMAT = new Intl.DateTimeFormat("en-GB", {month: "short", day: "numeric", hour: "2-digit",
                                                      minute: "2-digit", second: "2-digit", hourCycle: "h23"});
const NUMBER_FORMAT = new Intl.NumberFormat("en-US");
const LOCAL_FORMAT = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "medium"});

function fmtLocal(ms) { return LOCAL_FORMAT.format(new Date(ms)); }

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "";
  return TIME_FORMAT.format(new Date(ms));
}

function fmtNumber(n) { return NUMBER_FORMAT.format(Number(n || 0)); }

// The server's clock, as seen from here: "3 min ago" and live durations use it.
function serverClock(model) {
  const offset = (model.server_now || Date.now()) - Date.now();
  return () => Date.now() + offset;
}

function closeButton(onClick) {  // the × of a banner or a notice
  const close = h("button", "close", "×");
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", onClick);
  return close;
}
