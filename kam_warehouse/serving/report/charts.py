"""Lorenz and Pareto charts as PNG (matplotlib, Agg), with a font that renders Chinese account names.

The first installed CJK font found is used (Debian: fonts-noto-cjk); without one the charts still
render (DejaVu Sans), and Chinese glyphs show as boxes - a warning is logged once.
"""

from __future__ import annotations

import base64
import io
import logging
from functools import cache

import pandas as pd

log = logging.getLogger(__name__)

CJK_FONTS: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                              "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


@cache
def chart_fonts() -> list[str]:
    """Font family list for matplotlib: an installed CJK font first, then DejaVu Sans."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [name for name in CJK_FONTS if name in installed]
    if not cjk:
        log.warning("no CJK font installed (e.g. apt-get install fonts-noto-cjk): Chinese names in charts "
                    "will not render")
    return [*cjk[:1], "DejaVu Sans"]


def _png(fig: object) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float = 6.4, height: float = 4.2):  # -> tuple[Figure, Axes]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = chart_fonts()
    plt.rcParams["axes.unicode_minus"] = False
    return plt.subplots(figsize=(width, height))


def lorenz_png(lorenz: pd.DataFrame, title: str) -> str:
    """Lorenz curve per level (account, group) with the line of equality; base64 PNG (deterministic
    for the same points: no timestamp in the file)."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="equality")
    for level, points in lorenz.groupby("level"):
        xs = [0.0, *points["cumulative_entity_share"].astype(float)]
        ys = [0.0, *points["cumulative_revenue_share"].astype(float)]
        ax.plot(xs, ys, linewidth=2, label=f"{level} level")
    ax.set_xlabel("cumulative share of active accounts (ascending revenue)")
    ax.set_ylabel("cumulative share of revenue")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return _png(fig)


def pareto_png(pareto: pd.DataFrame, title: str) -> str:
    """Top accounts' revenue as bars (named) with the cumulative share of total revenue as a line."""
    fig, ax = _figure(width=9.0, height=4.6)
    names = [str(n) for n in pareto["entity_name"]]
    ax.bar(range(len(names)), pareto["revenue"].astype(float), color="#2f6db5")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("revenue")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    line = ax.twinx()
    line.plot(range(len(names)), pareto["cumulative_share"].astype(float), color="#d9822b", marker="o")
    line.axhline(0.8, color="#d9822b", linestyle=":", linewidth=1)
    line.set_ylim(0, 1.05)
    line.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    line.set_ylabel("cumulative share of total revenue")
    ax.set_title(title)
    return _png(fig)
