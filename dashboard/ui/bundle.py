"""What JavaScript the served page loads.

Panel sends MathJax (`bokeh-mathjax.min.js`, 1.8 MB, a third of the page's JavaScript) to
every page holding an HTML pane, whether or not the pane renders math. Ours never do: their
`disable_math` stays True, so log text such as "costs $5 and $10" is shown as written. Under
load a first visit spent seconds of browser CPU parsing it; `skip_unused_mathjax()` makes
Panel ask the pane itself.
"""

from __future__ import annotations

from bokeh.embed.bundle import _any
from panel.io import resources
from panel.models.markup import HTML


def _html_renders_math(roots) -> bool:
    return _any(roots, lambda model: isinstance(model, HTML) and not model.disable_math)


def skip_unused_mathjax() -> None:
    """Load MathJax only for a page with an HTML pane that renders math (Panel 1.9: any HTML pane)."""
    resources._panel_use_mathjax = _html_renders_math
