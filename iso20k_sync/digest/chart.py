"""The CPI and SPI(t) trend as a small PNG for the digest (matplotlib, Agg, imported lazily)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta

from ..analytics import StatusPoint

TREND_WEEKS = 12
"""Weeks of history drawn before the status date."""
WIDTH_PX, HEIGHT_PX, SCALE = 592, 216, 2
"""Size as shown in the e-mail, and the pixel density it is drawn at (sharp on high-resolution screens)."""
CPI_COLOUR, SPI_T_COLOUR = "#1F5FAD", "#B5651D"


def trend_points(history: Sequence[StatusPoint], weeks: int = TREND_WEEKS) -> list[StatusPoint]:
    """The points of the last ``weeks`` weeks up to the newest, oldest first."""
    if not history:
        return []
    points = sorted(history, key=lambda p: p.status_date)
    since = points[-1].status_date - timedelta(weeks=weeks)
    return [p for p in points if p.status_date >= since]


def trend_chart(history: Sequence[StatusPoint], weeks: int = TREND_WEEKS) -> bytes | None:
    """CPI and SPI(t) over the last weeks against the 1.0 line; None when neither has a value yet."""
    points = trend_points(history, weeks)
    cpi = [float(p.cpi) if p.cpi is not None else float("nan") for p in points]
    spi_t = [float(p.spi_t) if p.spi_t is not None else float("nan") for p in points]
    known = [v for v in (*cpi, *spi_t) if v == v]
    if not known:
        return None

    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure  # a bare Figure draws with Agg; no pyplot state

    dpi = 100 * SCALE
    figure = Figure(figsize=(WIDTH_PX / 100, HEIGHT_PX / 100), dpi=dpi)
    axes = figure.add_subplot()
    days = [p.status_date for p in points]
    axes.axhline(1.0, color="#888888", linewidth=1, linestyle="--", zorder=1)
    axes.plot(days, cpi, marker="o", markersize=3.5, linewidth=2, color=CPI_COLOUR, label="CPI (cost)")
    axes.plot(
        days, spi_t, marker="s", markersize=3.5, linewidth=2, color=SPI_T_COLOUR, label="SPI(t) (schedule)"
    )
    low, high = min(*known, 0.8) - 0.05, max(*known, 1.2) + 0.05
    axes.set_ylim(low, high)
    axes.text(days[0], 1.0, " 1.0 = on plan", va="bottom", ha="left", fontsize=8, color="#666666")
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
    axes.tick_params(labelsize=8, colors="#444444")
    axes.grid(axis="y", color="#E5E5E5", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#BBBBBB")
    if len(days) == 1:
        axes.set_xlim(days[0] - timedelta(days=7), days[0] + timedelta(days=7))
    axes.legend(loc="upper left", fontsize=8, frameon=False, ncol=2)
    figure.tight_layout(pad=0.4)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()
