"""The leaderboard plot: per benchmark, every row's pass@1 on its ranking suite with its 95% interval."""

from __future__ import annotations

from pathlib import Path

from harness.report.rows import Group, suite_title

COLOURS = {"measured": "#3b6fd8", "baseline": "#e8900c", "reference": "#b8bfcc"}


def leaderboard_png(groups: list[Group], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    heights = [max(1.6, 0.32 * len(g.rows) + 0.9) for g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, g in zip(axes[:, 0], groups):
        rows = [r for r in g.rows if g.primary in r.scores][::-1]  # best at the top
        ys = range(len(rows))
        values = [100 * r.scores[g.primary]["value"] for r in rows]
        colours = [COLOURS["baseline"] if r.baseline else COLOURS[r.kind] for r in rows]
        ax.barh(list(ys), values, color=colours, height=0.7,
                edgecolor=["#7d8596" if r.kind == "reference" else "none" for r in rows])
        for y, r, v in zip(ys, rows, values):
            ci = r.scores[g.primary].get("ci95")
            if ci:
                ax.errorbar(v, y, xerr=[[v - 100 * ci[0]], [100 * ci[1] - v]], fmt="none", ecolor="#1d2433",
                            capsize=3, lw=1)
            ax.text(min(v + 1, 97), y, f"{v:.1f}", va="center", fontsize=8)
        ax.set_yticks(list(ys), [_short(r.model) + (" (ref)" if r.kind == "reference" else "") for r in rows],
                     fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"{suite_title(g.benchmark, g.primary)} pass@1 (%)")
        ax.set_title(g.title, fontsize=11, loc="left")
        ax.grid(axis="x", alpha=0.3)
    fig.legend(handles=[Patch(color=COLOURS[k], label=k) for k in ("measured", "baseline", "reference")],
               loc="upper right", fontsize=8, ncol=3)
    fig.suptitle(f"{title}: pass@1 with 95% intervals", x=0.02, ha="left", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _short(name: str, width: int = 44) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
