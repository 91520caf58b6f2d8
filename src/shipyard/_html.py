"""Self-contained HTML report pages: one style sheet, escaping, number formats, atomic writes.

Shared by the validation report (``shipyard.data.validation.report``) and the drift report
(``shipyard.monitoring.report``). A page needs nothing but a browser and no network: the CSS sits
in one ``<style>`` tag, charts are inline SVG drawn in Python (no JavaScript) and the page holds
no external URL. Every value from data or callers goes through :func:`esc`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path

__all__ = ["CSS", "esc", "fmt_num", "page", "summary", "write_atomic"]

CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 0 auto; padding: 24px; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
  font-size: 12px; color: #fff; }
.badge.pass { background: var(--ok); } .badge.fail { background: var(--bad); }
.badge.warn { background: var(--warn); }
.status { font-size: 18px; padding: 3px 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.fact { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.fact b { display: block; font-size: 18px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.fail td { background: #ffebe9; } tr.warn td { background: #fff8c5; }
.scroll { overflow-x: auto; }
.null { color: var(--muted); font-style: italic; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.card h3 { margin: 0 0 4px; word-break: break-all; }
.chart .bar { fill: #0969da; } .chart .axis { stroke: #8c959f; }
.chart .label { font-size: 10px; fill: var(--muted); }
"""


def esc(value: object) -> str:
    """``value`` as escaped HTML text (quotes too, so it is safe inside attributes).

    >>> esc('<a href="x">')
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return escape(str(value), quote=True)


def fmt_num(value: object) -> str:
    """A number for a table cell: thousands separators for ints, 4 significant digits for
    floats, anything else escaped.

    >>> fmt_num(1234567), fmt_num(0.000123456), fmt_num(None)
    ('1,234,567', '0.0001235', 'None')
    """
    if isinstance(value, bool) or value is None:
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return esc(value)


def summary(
    badge: str, about: Sequence[str], facts: Sequence[tuple[str, str]], extra: str = ""
) -> str:
    """The summary section of a report: a status ``badge`` (HTML), a muted line of ``about``
    phrases (HTML), one card per ``(label, value)`` fact, then ``extra`` (HTML)."""
    cards = "".join(f'<div class="fact">{label}<b>{value}</b></div>' for label, value in facts)
    return (
        f'<section id="summary"><p>{badge}</p><p class="muted">{" · ".join(about)}</p>'
        f'<div class="facts">{cards}</div>{extra}</section>'
    )


def page(title: str, body: str, *, css: str = "") -> str:
    """A whole HTML document: ``title`` (escaped here) as ``<title>`` and ``<h1>``, then
    ``body`` (already HTML), styled by :data:`CSS` plus ``css``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}{css}</style></head>"
        f"<body><h1>{esc(title)}</h1>{body}</body></html>\n"
    )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it: never half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
