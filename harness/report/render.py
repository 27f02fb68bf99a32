"""The leaderboard as markdown and as one self-contained HTML page (inline CSS, the plot embedded)."""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone
from pathlib import Path

from harness.report.rows import Group, Row, suite_title

TEMPLATE = Path(__file__).with_name("leaderboard.html.jinja")


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def score_cell(row: Row, suite: str) -> str:
    s = row.scores.get(suite)
    if s is None:
        return ""
    ci = s.get("ci95")
    return f"{pct(s['value'])} [{pct(ci[0])}, {pct(ci[1])}]" if ci else pct(s["value"])


def p_text(p: float) -> str:
    return f"p={p:.2g}" if p >= 1e-4 else f"p={p:.0e}"


def delta_cell(row: Row, suite: str) -> str:
    if row.baseline:
        return "baseline"
    d = row.deltas.get(suite)
    if d is None:
        return ""
    return f"{100 * d.value:+.1f}" + (f" ({p_text(d.p_value)})" if d.p_value is not None else "")


def settings_cell(row: Row) -> str:
    s = row.settings
    parts = [f"n={s['n']}"] if s.get("n") else []
    if s.get("greedy"):
        parts.append("greedy")
    elif s.get("temperature") is not None:
        parts.append(f"T={s['temperature']:g}" + (f", top_p={s['top_p']:g}" if s.get("top_p") else ""))
    return " ".join(parts) or "unrecorded"


def timing_cell(row: Row, group: Group) -> str:
    """How many tasks have a verdict near a time limit, and the range pass@1 could take on another host."""
    t = row.timing
    if row.kind == "reference":
        return ""
    if not t:
        return "not recorded"
    if not t.get("tasks"):
        return "0"
    rng = (t.get("pass@1_range") or {}).get(group.primary)
    span = f"; {suite_title(group.benchmark, group.primary)} {pct(rng[0])}-{pct(rng[1])}" if rng else ""
    return f"{t['tasks']} task{'s' if t['tasks'] != 1 else ''}{span}"


def source_cell(row: Row) -> str:
    if row.kind == "reference":
        return row.source
    try:
        return os.path.relpath(row.source)
    except ValueError:
        return row.source


def kind_cell(row: Row) -> str:
    return "measured" if row.kind == "measured" else "reference"


def table(group: Group) -> tuple[list[str], list[list[str]]]:
    """Header and cells of one benchmark's table (shared by markdown, HTML and the W&B table)."""
    header = ["#", "model", "kind", "version"] + [suite_title(group.benchmark, s) for s in group.suites]
    header += [f"Δ {suite_title(group.benchmark, s)}" for s in group.suites]
    header += ["samples", "grader", "timing-sensitive", "source"]
    body = []
    for rank, r in enumerate(group.rows, 1):
        body.append([str(rank), r.model + (" (baseline)" if r.baseline else ""), kind_cell(r), r.version or ""]
                    + [score_cell(r, s) for s in group.suites] + [delta_cell(r, s) for s in group.suites]
                    + [settings_cell(r), r.grader or "", timing_cell(r, group), source_cell(r)])
    return header, body


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(title: str, groups: list[Group], baseline: str | None, notes: list[str]) -> str:
    measured = sum(r.kind == "measured" for g in groups for r in g.rows)
    refs = sum(r.kind == "reference" for g in groups for r in g.rows)
    lines = [f"# {title}", "",
             f"pass@1 (%) with 95% intervals over tasks; {measured} measured rows, {refs} reference rows "
             "(published numbers, not re-run here)."
             + (f" Δ: points against **{baseline}**, with a paired test's p where both have per-task verdicts."
                if baseline else "")]
    for g in groups:
        header, body = table(g)
        lines += ["", f"## {g.title} ({g.benchmark})", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in body]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def html(title: str, groups: list[Group], baseline: str | None, notes: list[str], plot: Path | None) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text())
    tables = []
    for g in groups:
        header, body = table(g)
        tables.append({"benchmark": g.benchmark, "title": g.title, "header": header,
                       "rows": [{"cells": cells[:-1], "kind": r.kind, "model": r.model, "baseline": r.baseline,
                                 "value": (r.scores.get(g.primary) or {}).get("value"), "source": cells[-1],
                                 "source_short": cells[-1] if r.kind == "reference" else Path(r.source).name}
                                for r, cells in zip(g.rows, body)]})
    image = base64.b64encode(plot.read_bytes()).decode() if plot is not None else None
    return template.render(title=title, tables=tables, baseline=baseline, notes=notes, image=image,
                           generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                           n_rows=sum(len(g.rows) for g in groups))
