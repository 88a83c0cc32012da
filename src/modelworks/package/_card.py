"""A markdown model card rendered from a manifest."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def render_card(m: dict) -> str:
    model = m.get("model") or {}
    lines = [
        f"# Model card: {model.get('estimator') or model.get('class') or 'model'}",
        "",
        f"- **Task:** {_fmt(m.get('task')) or 'unknown'}",
        f"- **Target:** {_fmt(m.get('target')) or 'unknown'}",
        f"- **Model:** `{model.get('class')}` stored as `{model.get('file')}` ({model.get('format')})",
        f"- **Created:** {_fmt(m.get('created'))} with modelworks {_fmt(m.get('modelworks_version'))}, "
        f"package format {m.get('format_version')}",
        f"- **Seed:** {_fmt(m.get('seed'))}",
    ]
    if m.get("classes"):
        lines.append(f"- **Classes:** {', '.join(map(str, m['classes']))}")
    data = m.get("training_data") or {}
    if data:
        lines.append(f"- **Training data:** {_fmt(data.get('rows'))} rows x {_fmt(data.get('columns'))} columns, "
                     f"fingerprint `{_fmt(data.get('fingerprint'))}`")
    if m.get("metrics"):
        lines += ["", "## Metrics", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in m["metrics"].items()]
    cols = (m.get("schema") or {}).get("columns") or []
    if cols:
        lines += ["", "## Input schema", "", "| column | kind | dtype | range / categories |", "| --- | --- | --- | --- |"]
        for c in cols:
            if c.get("categories"):
                shown = ", ".join(map(str, c["categories"][:8])) + (" ..." if len(c["categories"]) > 8 else "")
            elif c.get("min") is not None:
                shown = f"{_fmt(c.get('min'))} .. {_fmt(c.get('max'))}"
            else:
                shown = ""
            lines.append(f"| {c.get('name')} | {c.get('kind')} | {c.get('dtype')} | {shown} |")
    libs = m.get("libraries") or {}
    if libs:
        lines += ["", "## Library versions", ""] + [f"- {k} {v}" for k, v in libs.items()]
    if m.get("metadata"):
        lines += ["", "## Metadata", ""] + [f"- **{k}:** {_fmt(v)}" for k, v in m["metadata"].items()]
    lines += ["", "## Use", "", "```python", "import modelworks.package as mp",
              "pkg = mp.load(PATH)  # verifies hashes and audits types before loading",
              "pkg.predict(frame)   # validates columns against the schema first", "```", "",
              "```", "modelworks serve PATH --port 8080", "```", ""]
    return "\n".join(lines)
