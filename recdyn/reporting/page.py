"""The one HTML page skeleton of every report (``recdyn report`` and every study).

A :class:`Page` is a title, a line of facts, and :class:`Section`\\ s of blocks
(:class:`Table`, :class:`Figure`, :class:`Definitions`, :class:`Text`,
:class:`Prose`); :func:`render` turns it into one self-contained file through a Jinja2
template with autoescape on: every text from a run is escaped (only :class:`Prose`, HTML
written by recdyn with ``markupsafe.Markup.format``, is not), the style sheet is inline,
figures are base64 ``data:`` URIs, and nothing is fetched from a network — the page
opens from disk in any browser.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from recdyn.reporting.formatting import fmt_column

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d8dee4; --band: #f6f8fa; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 28px 32px 64px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: var(--muted); margin: 0; }
.meta span { margin-right: 18px; white-space: nowrap; }
nav { margin: 12px 0 0; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 16px; }
.note { color: var(--muted); font-size: 13.5px; margin: 6px 0 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid var(--line); white-space: nowrap; }
thead tr.groups th { text-align: center; border-bottom: 1px solid var(--line); }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group th { background: #eef3f9; color: var(--accent); font-size: 13.5px;
  border-top: 2px solid var(--line); }
.sub { color: var(--muted); font-size: 12px; }
td.yes { color: #1a7f37; font-weight: 600; white-space: nowrap; }
td.no { color: #cf222e; font-weight: 600; white-space: nowrap; }
td.na { color: var(--muted); white-space: nowrap; }
figure { margin: 18px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; }
pre { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: 12px 14px; overflow-x: auto; font-size: 13px; line-height: 1.45; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
"""

TEMPLATE = """{% macro draw(b) -%}
{% if b.kind == "table" -%}
<div class="scroll"><table><thead>
{%- if b.groups %}<tr class="groups">{% for title, span in b.groups %}
<th colspan="{{ span }}">{{ title }}</th>{% endfor %}</tr>{% endif %}
<tr>{% for c in b.columns %}<th{% if loop.index0 in b.numeric %} class="num"{% endif %}>
{{- c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in b.rows %}
{%- if row.kind == "group" %}<tr class="group"><th colspan="{{ b.columns|length }}">
{{- row.title }}</th></tr>
{% else %}<tr>{% for cell in row.cells %}
<td{% if cell.css or loop.index0 in b.numeric %} class="
{{- 'num' if loop.index0 in b.numeric }}{{ ' ' if cell.css and loop.index0 in b.numeric }}
{{- cell.css }}"{% endif %}>{{ cell.text }}
{%- for sub in cell.subs %}<div class="sub">{{ sub }}</div>{% endfor %}</td>
{%- endfor %}</tr>
{% endif %}{% endfor %}</tbody></table></div>
{%- elif b.kind == "figure" -%}
<figure><img src="data:image/png;base64,{{ b.data }}" alt="{{ b.caption }}">
<figcaption>{{ b.caption }} <span class="sub">({{ b.name }})</span></figcaption></figure>
{%- elif b.kind == "definitions" -%}
<dl>{% for term, value in b.items %}<dt>{{ term }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>
{%- elif b.kind == "pre" -%}
<pre>{{ b.text }}</pre>
{%- elif b.kind == "heading" -%}
<h3>{{ b.text }}</h3>
{%- else -%}
{{ b.html }}
{%- endif %}
{%- endmacro %}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }} — {{ page.kind }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<header>
<h1>{{ page.title }}</h1>
<p class="meta">{% for fact in page.meta %}<span>{{ fact }}</span>{% endfor %}</p>
{% if page.nav %}<nav>
{%- for s in page.sections if s.anchor %}<a href="#{{ s.anchor }}">{{ s.heading }}</a>{% endfor -%}
</nav>{% endif %}
</header>
{% for block in page.intro %}{{ draw(block) }}{% endfor %}
{% for s in page.sections %}
<h2{% if s.anchor %} id="{{ s.anchor }}"{% endif %}>{{ s.heading }}</h2>
{% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
{% for block in s.blocks %}{{ draw(block) }}{% endfor %}
{% endfor %}
</main>
</body>
</html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
_TEMPLATE = _ENV.from_string(TEMPLATE)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, muted lines under it (``subs``) and a CSS class
    (``yes``/``no``/``na`` colour a verdict)."""

    text: Any
    subs: tuple[str, ...] = ()
    css: str = ""


@dataclass(frozen=True)
class GroupRow:
    """A row across the whole table that opens a group of rows (e.g. an environment)."""

    title: str
    kind: ClassVar[str] = "group"


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    kind: ClassVar[str] = "row"


@dataclass
class Table:
    """``columns`` (names), ``rows`` (:class:`Row`, :class:`GroupRow` or lists of texts /
    :class:`Cell`), the indices of the ``numeric`` (right-aligned) columns, and
    ``groups``: an optional header row above, as ``(title, columns spanned)``."""

    columns: list[str]
    rows: list[Any]
    numeric: set[int] = field(default_factory=set)
    groups: list[tuple[str, int]] | None = None
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        self.rows = [
            r
            if isinstance(r, (Row, GroupRow))
            else Row(tuple(c if isinstance(c, Cell) else Cell(c) for c in r))
            for r in self.rows
        ]


@dataclass(frozen=True)
class Figure:
    """A PNG, embedded as base64, with its caption and file name."""

    caption: str
    name: str
    data: str
    kind: ClassVar[str] = "figure"


@dataclass(frozen=True)
class Definitions:
    """A list of ``(term, value)`` pairs."""

    items: list[tuple[str, Any]]
    kind: ClassVar[str] = "definitions"


@dataclass(frozen=True)
class Text:
    """Plain text: a preformatted block (``kind="pre"``, e.g. TOML) or a sub-heading
    inside a section (``kind="heading"``)."""

    text: str
    kind: str = "pre"


@dataclass(frozen=True)
class Prose:
    """HTML written by recdyn (build it with ``Markup(...).format(...)``, which escapes
    the values it inserts)."""

    html: Markup
    kind: ClassVar[str] = "prose"


@dataclass
class Section:
    """An ``<h2>`` with an optional ``note`` under it and its blocks; sections with an
    ``anchor`` are linked from the page's navigation."""

    heading: str
    blocks: list[Any]
    anchor: str | None = None
    note: str | Markup | None = None


@dataclass
class Page:
    title: str
    kind: str  # "recdyn report", "recdyn study"
    meta: list[str]
    sections: list[Section]
    intro: list[Any] = field(default_factory=list)
    nav: bool = True


def render(page: Page) -> str:
    """The whole page as one HTML string."""
    return _TEMPLATE.render(page=page, css=Markup(CSS))


def write(page: Page, path: str | Path) -> Path:
    """Render ``page`` into ``path`` atomically (a reader never sees half a page)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(page), encoding="utf-8")
    tmp.replace(path)
    return path


def generated() -> str:
    """``"generated <local time>"`` for a page's facts line."""
    return f"generated {datetime.now().astimezone().isoformat(timespec='seconds')}"


def figure(caption: str, path: str | Path) -> Figure:
    """:class:`Figure` of the PNG at ``path``."""
    path = Path(path)
    return Figure(caption, path.name, base64.b64encode(path.read_bytes()).decode("ascii"))


def frame_table(frame: pd.DataFrame) -> Table:
    """A DataFrame as a :class:`Table`: numeric columns right-aligned, each with one
    number of decimals (:func:`~recdyn.reporting.formatting.fmt_column`), booleans as
    ``yes``/``no``."""
    columns, numeric = [], set()
    for i, c in enumerate(frame.columns):
        values = frame[c]
        if pd.api.types.is_bool_dtype(values):
            columns.append(["yes" if v else "no" for v in values])
        elif pd.api.types.is_numeric_dtype(values):
            columns.append(fmt_column(list(values)))
            numeric.add(i)
        else:
            columns.append([str(v) for v in values])
    rows = [list(r) for r in zip(*columns)] if columns else []
    return Table([str(c) for c in frame.columns], rows, numeric)
