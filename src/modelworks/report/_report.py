"""An HTML report made of independent sections.

Each capability builds its own :class:`Section` (text, key figures, tables, PNG plots) and adds
it to the :class:`Report`; no section knows about another. ``Report.write`` renders one
self-contained ``report.html`` (plots are PNG files beside it, under ``plots/``) atomically.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelworks import _io

_CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2a44;color:#fff;padding:22px 36px}
header h1{margin:0;font-size:24px} header p{margin:6px 0 0;color:#c9d3e6}
nav{padding:10px 36px;background:#fff;border-bottom:1px solid #e3e6eb;font-size:14px}
nav a{margin-right:16px;color:#2b5cb8;text-decoration:none}
main{padding:12px 36px 48px;max-width:1200px}
section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:18px 24px;margin:18px 0}
h2{margin-top:0;font-size:20px} h3{font-size:16px;margin-bottom:6px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e8eaee;padding:5px 10px;text-align:right}
th{background:#f1f3f6} td:first-child,th:first-child{text-align:left}
.kv{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.kv div{background:#f1f5fb;border-radius:6px;padding:8px 14px}
.kv b{display:block;font-size:18px} .kv span{font-size:12px;color:#5b6575}
figure{display:inline-block;margin:8px 12px 8px 0;vertical-align:top}
figure img{max-width:540px;border:1px solid #e3e6eb;border-radius:4px}
figcaption{font-size:12px;color:#5b6575;max-width:540px}
.note{color:#5b6575;font-size:13px} .warn{background:#fff6e0;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0}
.ok{color:#1a7f37} .bad{color:#b42318}
pre{background:#f1f3f6;padding:10px;overflow-x:auto;font-size:12px}
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass
class Section:
    """One part of a report: a title and an ordered list of HTML blocks.

    Use the builder methods (``text``, ``metrics``, ``table``, ``image``, ``warning``, ``code``)
    rather than raw HTML; every string is escaped.
    """

    title: str
    blocks: list[str] = field(default_factory=list)
    order: int = 50
    images: list[Path] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return _slug(self.title)

    def text(self, text: str, *, css: str | None = None) -> Section:
        cls = f' class="{css}"' if css else ""
        self.blocks.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def heading(self, text: str) -> Section:
        self.blocks.append(f"<h3>{html.escape(text)}</h3>")
        return self

    def warning(self, text: str) -> Section:
        self.blocks.append(f'<div class="warn">{html.escape(text)}</div>')
        return self

    def code(self, text: str) -> Section:
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")
        return self

    def metrics(self, values: dict[str, Any]) -> Section:
        """Key figures shown as tiles."""
        tiles = "".join(
            f"<div><b>{html.escape(_fmt(v))}</b><span>{html.escape(str(k))}</span></div>"
            for k, v in values.items()
        )
        self.blocks.append(f'<div class="kv">{tiles}</div>')
        return self

    def table(self, frame, *, index: bool = False, max_rows: int = 60, floatfmt: str = "{:.4g}") -> Section:
        """A pandas DataFrame as an HTML table (numbers formatted, strings escaped)."""
        df = frame if index is False else frame.reset_index()
        if len(df) > max_rows:
            df = df.head(max_rows)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        rows = []
        for row in df.itertuples(index=False):
            cells = "".join(f"<td>{html.escape(_fmt(v, floatfmt))}</td>" for v in row)
            rows.append(f"<tr>{cells}</tr>")
        more = (
            f'<p class="note">showing {max_rows} of {len(frame)} rows</p>' if len(frame) > max_rows else ""
        )
        self.blocks.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")
        return self

    def image(self, path: str | os.PathLike, caption: str = "") -> Section:
        """A PNG already written inside the report directory (or to be moved there by write)."""
        path = Path(path)
        self.images.append(path)
        self.blocks.append(("__IMG__", str(path), caption))  # resolved at render time
        return self

    def figure(self, fig, name: str, caption: str = "", *, report: Report | None = None) -> Section:
        """Save a matplotlib figure as PNG and show it. ``report`` gives the plots directory."""
        plots = report.plots_dir if report is not None else Path.cwd()
        path = save_figure(fig, plots / f"{_slug(name)}.png")
        return self.image(path, caption)

    def render(self, root: Path) -> str:
        parts = []
        for block in self.blocks:
            if isinstance(block, tuple):
                _, path, caption = block
                p = Path(path)
                try:
                    src = os.path.relpath(p.resolve(), root.resolve())
                except ValueError:
                    src = str(p)
                parts.append(
                    f'<figure><img src="{html.escape(Path(src).as_posix())}" alt="{html.escape(caption or p.stem)}">'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
            else:
                parts.append(block)
        return (
            f'<section id="{self.anchor}"><h2>{html.escape(self.title)}</h2>'
            + "\n".join(parts)
            + "</section>"
        )


def _fmt(value: Any, floatfmt: str = "{:.4g}") -> str:
    import math

    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return floatfmt.format(value)
    if value is None:
        return "—"
    return str(value)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically and close it (in pyplot, when it is there:
    a ``matplotlib.figure.Figure`` made without pyplot needs no closing)."""
    import sys

    path = Path(path)
    with _io.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return path


class Report:
    """A report written to ``out_dir/report.html`` with plots under ``out_dir/plots``.

    Parameters
    ----------
    out_dir : path
        Directory for the report and its plots (created).
    title : str
        Page title.
    subtitle : str, optional
        One line under the title (dataset, target, task...).
    """

    def __init__(self, out_dir: str | os.PathLike, title: str = "modelworks report",
                 subtitle: str = "") -> None:
        self.out_dir = Path(out_dir)
        self.title = title
        self.subtitle = subtitle
        self.sections: list[Section] = []
        _io.ensure_dir(self.out_dir)
        self.plots_dir.mkdir(parents=True, exist_ok=True)

    @property
    def plots_dir(self) -> Path:
        return self.out_dir / "plots"

    @property
    def path(self) -> Path:
        return self.out_dir / "report.html"

    def section(self, title: str, *, order: int = 50) -> Section:
        """Create, add and return a new section."""
        sec = Section(title=title, order=order)
        self.add(sec)
        return sec

    def add(self, section: Section) -> Section:
        self.sections.append(section)
        return section

    def render(self) -> str:
        sections = sorted(self.sections, key=lambda s: s.order)  # stable: same order keeps insertion
        nav = "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        from modelworks import __version__

        body = "\n".join(s.render(self.out_dir) for s in sections)
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><p>{html.escape(self.subtitle)}"
            f" · modelworks {__version__} · {stamp}</p></header>"
            f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
        )

    def write(self) -> Path:
        """Write ``report.html`` atomically and return its path."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return _io.write_text(self.path, self.render())
