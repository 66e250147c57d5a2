"""Where a served page's browser time goes on Bokeh layouts, while sessions click through it.

    python -m benchmarks.page_layouts http://127.0.0.1:5006/ [--sessions 3] [--seconds 25]

Drives --sessions load-test sessions (benchmarks/load_sessions.py) in headless Chromium
against a running `flowlogs serve` (start a writer beside it, e.g. benchmarks/load_writer.py,
for a live stream). After 10 s it wraps `compute_layout` of every Bokeh view of the first
session's page, and prints, per layout model and the call path that asked for it, how many
layouts ran in --seconds and their time. A layout asked for by a property change (`setv`)
lays out the whole page again; one asked for by a ResizeObserver only its own part.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time

from benchmarks.load_sessions import CHROMIUM, CHROMIUM_ARGS, Observations, Session

HOOK = """() => {
  window.__layouts = [];
  const seen = new Set();
  const wrap = (view) => {
    if (!view || seen.has(view)) return;
    seen.add(view);
    if (typeof view.compute_layout === "function") {
      const original = view.compute_layout.bind(view);
      view.compute_layout = (...args) => {
        const started = performance.now();
        const result = original(...args);
        const path = new Error().stack.split(String.fromCharCode(10)).slice(2, 9)
          .map((line) => line.trim().split(" ")[1]).join(" < ");
        window.__layouts.push([`${view.model.type} ${(view.model.css_classes || []).join(".")} | ${path}`,
                               performance.now() - started]);
        return result;
      };
    }
    for (const child of (view.child_views || [])) wrap(child);
  };
  for (const view of Object.values(Bokeh.index)) wrap(view);
  return seen.size;
}"""


async def measure(url: str, sessions: int, seconds: float) -> list[tuple[str, float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        seen = Observations()
        people = [Session(n, context, url, seen, 1.0) for n in range(sessions)]
        for person in people:
            await person.start()
        deadline = time.monotonic() + 10 + seconds
        tasks = [asyncio.create_task(person.run(deadline)) for person in people]
        await asyncio.sleep(10)
        await people[0].page.evaluate(HOOK)
        await asyncio.sleep(seconds)
        layouts = await people[0].page.evaluate("window.__layouts")
        await asyncio.gather(*tasks)
        await browser.close()
    return layouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=25)
    args = parser.parse_args()
    by_path: dict[str, list[float]] = collections.defaultdict(list)
    for path, ms in asyncio.run(measure(args.url, args.sessions, args.seconds)):
        by_path[path].append(ms)
    print(f"layouts of the first session's page in {args.seconds:.0f} s (nested layouts are counted in each):")
    for path, times in sorted(by_path.items(), key=lambda item: -sum(item[1]))[:12]:
        print(f"{len(times):4d} × {sum(times):7.0f} ms in all, at most {max(times):4.0f} ms  {path}")


if __name__ == "__main__":
    main()
