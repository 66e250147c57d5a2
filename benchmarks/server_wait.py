"""When a page waits on the server, read from its network events over CDP (Chromium's DevTools protocol).

`NetworkLog.listen(cdp)` on a page's CDP session (then `Network.enable`) keeps, for every
websocket frame, its timestamp, direction, Bokeh message type (header frames only) and size,
and every document request's start and end. `waiting(windows)` then says how much of each
window (an interaction, from its click until its answer was on screen) the page spent waiting
on the server, overlaps counted once:

- a document request begun in the window, from its start until its response ended (Panel
  builds the session while answering it);
- the websocket's handshake, and every Bokeh message the page sent in the window, until the last
  message from the server that arrived before the page sent its next one, and before the window
  ended. Not only until the server's first reply: Bokeh answers each message at once (OK), but
  the dashboard's loaders run their queries after that and push the result as a message of their
  own, which is what the page waits for (a tab switch: OK after 8 ms, the groups after 130 ms).

Only waits begun in the window count (the click's message covers its queueing behind earlier
ones), and only messages received in it end one: between clicks, and while the page draws the
answer, the server's own pushes (an auto-refresh every second or so under a live stream)
would otherwise run the wait on. One such push that arrives while the page draws the answer
still counts, and received frames are stamped by the renderer as it takes them (an answer that
waited for a busy renderer counts as waiting on the server): the share may be overstated a
little, not understated. `waiting(windows, first_reply=True)` ends each wait at the server's
first reply instead: a lower bound, which misses the queries.

Other requests (scripts, styles, the favicon) are not counted: a person's browser has them
cached. (The load test's sessions fetch them again on each open: Playwright's request routing,
which keeps their requests on this machine, turns Chromium's HTTP cache off.)

A Bokeh message spans several frames (header, metadata, content, buffers); only the header
frame names its type, and a message from the server ends with its last frame.

Clock: CDP's timestamps are Chromium's TimeTicks in seconds, CLOCK_MONOTONIC on Linux, the
clock of Python's `time.monotonic()`: windows timed in Python apply to them as they are.
`lag` keeps the least time an event took to reach Python after its timestamp, which is small
and never negative on one clock (checked on Chromium 156: over 975 frames at least 0.3 ms,
10 ms median, none negative; `time.time()` is 1.8e9 s off).
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left, bisect_right

SENT, RECEIVED = "out", "in"
MSGTYPE = re.compile(r'"msgtype"\s*:\s*"([^"]*)"')


class NetworkLog:
    """One page's websocket frames and document requests, as CDP reports them (no payloads kept)."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, str, str, int]] = []  # (timestamp s, direction, msgtype or "", chars)
        self.documents: dict[str, list[float]] = {}  # request id -> [started, ended]
        self.handshakes: list[float] = []
        self.lag = float("inf")  # least seconds from an event's timestamp to its arrival here

    def listen(self, cdp) -> None:
        """Handlers on a CDP session (sync or async Playwright); the caller sends Network.enable."""
        cdp.on("Network.webSocketFrameSent", lambda event: self._frame(event, SENT))
        cdp.on("Network.webSocketFrameReceived", lambda event: self._frame(event, RECEIVED))
        cdp.on("Network.webSocketWillSendHandshakeRequest", lambda event: self.handshakes.append(event["timestamp"]))
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.loadingFinished", self._ended)
        cdp.on("Network.loadingFailed", self._ended)

    def _frame(self, event: dict, direction: str) -> None:
        # called for every frame of every session: no JSON parsing, a regex on header frames only
        data = event.get("response", {}).get("payloadData", "")
        found = MSGTYPE.search(data, 0, 160) if data[:1] == "{" else None
        self.frames.append((event["timestamp"], direction, found.group(1) if found else "", len(data)))
        self.lag = min(self.lag, time.monotonic() - event["timestamp"])

    def _request(self, event: dict) -> None:
        if event.get("type") == "Document":
            self.documents.setdefault(event["requestId"], [event["timestamp"]])

    def _ended(self, event: dict) -> None:
        span = self.documents.get(event["requestId"])
        if span is not None and len(span) == 1:
            span.append(event["timestamp"])

    def waiting(self, windows: list[tuple[float, float]], first_reply: bool = False) -> list[float]:
        """Seconds of each (start, end) window (CDP's clock) the page spent waiting on the server
        (module docstring); with `first_reply`, each message only until the server's first reply."""
        sent = sorted([t for t, d, m, _ in self.frames if d == SENT and m] + self.handshakes)
        answers = received_messages(self.frames)
        answer_starts = [a for a, _ in answers]
        out = []
        for start, end in windows:
            spans = [(s[0], min(s[1], end) if len(s) == 2 else end) for s in self.documents.values()
                     if start <= s[0] < end]
            for i in range(bisect_left(sent, start), bisect_left(sent, end)):
                until = min(sent[i + 1] if i + 1 < len(sent) else end, end)  # the page's next message
                first = last = bisect_right(answer_starts, sent[i])
                if first == len(answers) or answers[first][0] >= end:
                    continue  # not answered before the page was ready: not waited for
                while not first_reply and last + 1 < len(answers) and answers[last + 1][0] < until:
                    last += 1
                spans.append((sent[i], min(answers[last][1], end)))
            out.append(covered(spans))
        return out


def received_messages(frames: list[tuple[float, str, str, int]]) -> list[tuple[float, float]]:
    """(first frame, last frame) of each message the server sent, in order."""
    messages: list[list[float]] = []
    for t, direction, msgtype, _ in sorted(frames, key=lambda frame: frame[0]):  # ties: as they came
        if direction != RECEIVED:
            continue
        if msgtype:
            messages.append([t, t])
        elif messages:
            messages[-1][1] = t
    return [(a, b) for a, b in messages]


def covered(spans: list[tuple[float, float]]) -> float:
    """Seconds the (from, to) spans cover, overlaps counted once."""
    total, reached = 0.0, float("-inf")
    for a, b in sorted(spans):
        a = max(a, reached)
        if b > a:
            total += b - a
            reached = b
    return total
