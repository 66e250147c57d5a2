"""The load test's report (benchmarks/load_test.py): what was run, each interaction's latency and
the server's share of it, whether the targets are met, and the other figures of the run."""

from __future__ import annotations

import numpy as np

from benchmarks.load_sessions import KINDS

TARGET_MS = 2000  # p95 of an interaction, and of the server's share of it
OVERALL = "all interactions"  # every kind but first visits
LABELS = {"first visit": "first visit (empty browser cache)", OVERALL: "**all but first visits**"}


def summarise(latencies: list[tuple[str, float]]) -> dict[str, dict]:
    """count, p50, p95 and max of (kind, ms) pairs, by kind and for all but first visits."""
    out = {}
    for kind in [*KINDS, OVERALL]:
        values = [ms for k, ms in latencies if k == kind or kind == OVERALL and k != "first visit"]
        if values:
            p50, p95 = np.percentile(values, [50, 95])
            out[kind] = {"count": len(values), "p50": float(p50), "p95": float(p95), "max": max(values)}
    return out


def targets(latencies: dict, server: dict, first_reply: dict, errors: int) -> dict:
    """The targets: p95 of an interaction ≤ 2 s with zero errors; failing that on this machine, the
    server's share of it (the browsers' own CPU set aside) p95 ≤ 2 s with zero errors."""
    total = latencies.get(OVERALL, {}).get("p95")
    share = server.get(OVERALL, {}).get("p95")
    return {"target_ms": TARGET_MS, "errors": errors, "total_p95_ms": total, "server_share_p95_ms": share,
            "server_first_reply_p95_ms": first_reply.get(OVERALL, {}).get("p95"),
            "total_met": total is not None and total <= TARGET_MS and errors == 0,
            "server_share_met": share is not None and share <= TARGET_MS and errors == 0}


def render(result: dict) -> str:
    return "\n".join([*heading(result), *latency_table(result), *other_figures(result), *error_table(result)])


def heading(result: dict) -> list[str]:
    a = result["args"]
    load = result["load_average"]
    start, end = result["store_before"], result["store_at_end"]
    return [
        f"### Load: {a['sessions']} sessions, {a['rate']:,.0f} events/s, {a['duration']:.0f} s",
        "",
        f"Command: `{result['command']}` · machine: {result['machine']} · {result['date']} · "
        f"load average {load['before']:.1f} before, {load['during_mean']:.1f} on average during the run "
        f"(peak {load['during_max']:.1f})",
        "",
        f"Store: {start['executions']:,} executions in {start['days']} days at the start, "
        f"{result['store_after']['executions']:,} at the end. Today's partition held {start['files_today']} files "
        f"at the start and {end['files_today']} at the end of the clicking (the server compacts every 5 minutes); "
        f"the page-open queries (tab counts + flow groups, cold, from this process) took "
        f"{start['page_open_queries_ms']:,.0f} then {end['page_open_queries_ms']:,.0f} ms.",
        "",
        f"Each session opens the page, then goes round: two tabs, a flow group expanded, one of its executions "
        f"opened and closed{', the page loaded afresh' if a.get('reload') else ''}; it pauses {a['think']:g} s "
        f"(±50 %) between clicks, "
        f"{'in its own browser context' if a.get('separate_profiles') else 'as a tab of one browser profile'}, "
        f"each as if in front of its person (Chromium's throttling of background tabs off, its HTTP cache on). "
        f"Sessions arrive over the first fifth of the run. Latency runs from the click (or "
        f"navigation) until the answer is on screen, checked in the page every 25 ms. Its server share is "
        f"the part of it the page spent waiting on the server, read from the page's network events over CDP: "
        f"the document request until its response ended, and each Bokeh message the page sent in it until the "
        f"server's last message before the page sent its next (the server answers OK at once, then pushes a "
        f"query's result); overlaps count once. The rest is the browser's, waiting for a CPU included. The "
        f"share is an upper bound (an auto-refresh arriving while the page draws the answer counts; received "
        f"messages are stamped when the renderer takes them); counting each message only until the server's "
        f"first reply gives a lower bound, which misses the queries.",
        "",
    ]


def latency_table(result: dict) -> list[str]:
    lines = ["| interaction | count | p50 ms | p95 ms | max ms | server share p50 | p95 | max |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, s in result["latencies"].items():
        label = LABELS.get(kind, kind)
        server = result["server_share"].get(kind)
        shares = [f"{server[q]:,.0f}" for q in ("p50", "p95", "max")] if server else ["–"] * 3
        lines.append(f"| {label} | {s['count']:,} | {s['p50']:,.0f} | {s['p95']:,.0f} | {s['max']:,.0f} | "
                     + " | ".join(shares) + " |")
    if not result["latencies"]:
        lines.append("| (no interaction completed) | 0 | – | – | – | – | – | – |")
    t = result["targets"]
    floor = t["server_first_reply_p95_ms"]
    return [*lines, "", f"Targets, over all but first visits: p95 of an interaction ≤ {t['target_ms']:,} ms with "
            f"zero errors: {verdict(t, 'total')}; the server's share of it, p95 ≤ {t['target_ms']:,} ms with "
            f"zero errors: {verdict(t, 'server_share')}"
            + ("." if floor is None else f"; the share's lower bound (first replies only) has p95 {floor:,.0f} ms.")]


def verdict(t: dict, which: str) -> str:
    p95 = t[f"{which}_p95_ms"]
    shown = "–" if p95 is None else f"{p95:,.0f}"
    return f"**{'met' if t[f'{which}_met'] else 'not met'}** (p95 {shown} ms, {t['errors']} errors)"


def other_figures(result: dict) -> list[str]:
    a = result["args"]
    events = result["events"]
    cpu = result["cpu"]
    cores = ", ".join(f"{part} {seconds / cpu['seconds']:.2f}" for part, seconds in cpu["parts"].items()
                      if cpu["seconds"])
    lines = [
        "",
        "| other figure | value |",
        "|---|---|",
        f"| errors | **{sum(e['count'] for e in result['errors'].values())}** |",
        f"| events written by {events['writers']} writer processes (acknowledged / emitted) | "
        f"{events['acknowledged']:,} / {events['emitted']:,} |",
        f"| event rate achieved (target {a['rate']:,.0f}/s) | {events['rate']:,.0f}/s |",
        f"| server peak memory (VmHWM) | {result['server_peak_mb']:,.0f} MB |",
        f"| CPU used, cores on average over {cpu['seconds']:.0f} s | {cores} |",
    ]
    if result["ignored"]:
        lines += ["", "Seen and not counted as errors: " + "; ".join(
            f"{kind}: {count:,}" for kind, count in result["ignored"].items()) + "."]
    return lines


def error_table(result: dict) -> list[str]:
    if not result["errors"]:
        return []
    lines = ["", "| error | count | first messages |", "|---|---:|---|"]
    for kind, e in result["errors"].items():
        first = "<br>".join(m.replace("|", "\\|") for m in e["first"])
        lines.append(f"| {kind} | {e['count']:,} | {first} |")
    return lines
