"""Plots (matplotlib, Agg canvas): each function returns a Figure and never shows a window.

Figures are built with :class:`matplotlib.figure.Figure` directly, not pyplot, so nothing touches
the global backend or pyplot's figure list. :func:`render_png` gives deterministic bytes (no
``Software`` tag, fixed dpi): the same figure in the same environment is the same file.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.report.atomic import atomic_write_bytes
from archsim.report.checks import check_events
from archsim.report.steps import bin_average, max_steps

DPI = 100
#: most units drawn with a legend; more are drawn without one
MAX_LEGEND_UNITS = 16


def _figure(width_in: float = 8.0, height_in: float = 4.5) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def render_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` at :data:`DPI`, without the (version-stamped) ``Software`` tag."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def save_png(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, render_png(fig))


# -- utilization ------------------------------------------------------------------------------


def utilization_bins(
    events: EventTable, *, unit: str | Sequence[str] | None = None, bins: int = 200
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Time-weighted mean ``util`` per time bin per unit.

    Bins split ``[0, events.end_cycle)`` evenly (``bins`` of them, fewer if the run is shorter
    than ``bins`` cycles). Within a unit, overlapping spans count once at their max util.
    Returns ``(edges_cycles, {unit: means})``; ``edges_cycles`` is empty for an empty table.
    """
    check_events(events)
    if bins < 1:
        raise InputError(None, "bins", "an int >= 1", bins)
    if unit is not None:
        wanted = [unit] if isinstance(unit, str) else list(unit)
        unknown = [u for u in wanted if u not in events.units]
        if unknown:
            raise InputError(None, "unit", f"a unit of the event table, one of {events.units}", unknown)
        events = events.select(unit=wanted)
    end_cycle = events.end_cycle
    if end_cycle == 0:
        return np.zeros(0), {}
    edges = np.linspace(0.0, float(end_cycle), min(bins, end_cycle) + 1)
    cols = events.columns()
    out = {}
    for u in events.units:
        mask = cols["unit"] == u
        steps = max_steps(cols["start_cycle"][mask], cols["end_cycle"][mask], cols["util"][mask])
        out[u] = bin_average(steps, edges)
    return edges, out


def utilization_over_time(
    events: EventTable, *, unit: str | Sequence[str] | None = None, bins: int = 200
) -> Figure:
    """Utilization (0..1) over time per unit, binned (see :func:`utilization_bins`).

    x axis in cycles (bottom) and ns (top, from ``events.clock_hz``).
    """
    edges, means = utilization_bins(events, unit=unit, bins=bins)
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title("Utilization over time")
    if not means:
        _empty(ax, "no events")
        return fig
    for name, values in means.items():
        ax.stairs(values, edges, baseline=None, label=name, linewidth=1.2)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(-0.02, 1.05)  # idle (0) lines stay visible above the axis
    ax.set_xlabel("cycle")
    ax.set_ylabel("utilization (time-weighted mean per bin)")
    ax.grid(True, alpha=0.3)
    ns_per_cycle = 1e9 / events.clock_hz
    top = ax.secondary_xaxis("top", functions=(lambda c: c * ns_per_cycle, lambda ns: ns / ns_per_cycle))
    top.set_xlabel(f"time (ns)  [clock {events.clock_hz / 1e6:g} MHz]")
    if len(means) <= MAX_LEGEND_UNITS:
        fig.legend(loc="outside right upper", fontsize="small")
    return fig


# -- energy -----------------------------------------------------------------------------------


def _fmt_pj(pj: float) -> str:
    return f"{pj:,.0f} pJ" if abs(pj) >= 1000 else f"{pj:.4g} pJ"


def energy_breakdown(breakdown_pj: Mapping[str, float]) -> Figure:
    """Horizontal bars of energy per component in pJ, largest on top, labelled with % of total."""
    items = sorted(((str(k), float(v)) for k, v in breakdown_pj.items()), key=lambda kv: (-kv[1], kv[0]))
    fig = _figure(8.0, max(2.5, 0.4 * len(items) + 1.5))
    ax = fig.add_subplot()
    total = sum(v for _, v in items)
    ax.set_title(f"Energy breakdown (total {_fmt_pj(total)})")
    if not items:
        _empty(ax, "no energy data")
        return fig
    names = [k for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    bars = ax.barh(names, values, color="tab:blue")
    labels = [f"{_fmt_pj(v)} ({100 * v / total:.1f}%)" if total else _fmt_pj(v) for v in values]
    ax.bar_label(bars, labels=labels, padding=3, fontsize="small")
    ax.set_xlabel("energy (pJ)")
    ax.set_xlim(0, max(max(values), 0) * 1.35 or 1)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


# -- per op -----------------------------------------------------------------------------------


def per_op_bars(result: Any, metric: str = "cycles", top: int = 30) -> Figure:
    """Horizontal bars of ``metric`` (a numeric column of ``result.ops``) for the ``top`` largest
    ops, largest on top; ops without the metric are left out."""
    if top < 1:
        raise InputError(None, "top", "an int >= 1", top)
    rows = [(str(r.get("op", i)), r.get(metric)) for i, r in enumerate(result.ops)]
    rows = [
        (name, float(v))
        for name, v in rows
        if isinstance(v, int | float | np.number) and not isinstance(v, bool)
    ]
    if result.ops and not rows:
        numeric = sorted(
            {k for r in result.ops for k, v in r.items() if isinstance(v, int | float | np.number)}
        )
        raise InputError(None, "metric", f"a numeric op column, one of {numeric}", metric)
    rows.sort(key=lambda nv: -nv[1])  # stable: ties keep execution order
    shown = rows[:top]
    fig = _figure(8.0, max(2.5, 0.3 * len(shown) + 1.5))
    ax = fig.add_subplot()
    ax.set_title(
        f"{metric} per op" + (f" (top {len(shown)} of {len(rows)})" if len(rows) > len(shown) else "")
    )
    if not shown:
        _empty(ax, "no ops")
        return fig
    ax.barh([n for n, _ in shown][::-1], [v for _, v in shown][::-1], color="tab:green")
    ax.set_xlabel(metric)
    ax.tick_params(axis="y", labelsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


# -- roofline ---------------------------------------------------------------------------------


def roofline(
    points: Iterable[Mapping[str, Any]], peak_ops_per_cycle: float, bytes_per_cycle: float
) -> Figure:
    """Roofline on log-log axes: attained ops/cycle against operational intensity (ops/byte).

    Each point is ``{"name": str, "ops": number, "bytes": number, "cycles": number}`` (``ops``
    e.g. 2*MACs; ``bytes`` the off-chip traffic). The roof is
    ``min(peak_ops_per_cycle, bytes_per_cycle * intensity)``. Points with zero ops, bytes or cycles
    cannot be placed and are counted in the title.
    """
    for name, value in (("peak_ops_per_cycle", peak_ops_per_cycle), ("bytes_per_cycle", bytes_per_cycle)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise InputError(None, name, "a finite number > 0", value)
    placed, skipped = [], 0
    for p in points:
        ops, nbytes, cycles = float(p["ops"]), float(p["bytes"]), float(p["cycles"])
        if nbytes > 0 and cycles > 0 and ops > 0:
            placed.append((str(p.get("name", "")), ops / nbytes, ops / cycles))
        else:
            skipped += 1
    ridge = peak_ops_per_cycle / bytes_per_cycle
    xs = [x for _, x, _ in placed] + [ridge]
    x_lo, x_hi = min(xs) / 4, max(xs) * 4
    fig = _figure()
    ax = fig.add_subplot()
    roof_x = np.geomspace(x_lo, x_hi, 256)
    ax.plot(
        roof_x,
        np.minimum(peak_ops_per_cycle, bytes_per_cycle * roof_x),
        color="k",
        linewidth=1.5,
        label=f"roof: {peak_ops_per_cycle:g} ops/cycle, {bytes_per_cycle:g} B/cycle",
    )
    ax.axvline(ridge, color="0.6", linestyle=":", linewidth=1)
    if placed:
        ax.scatter([x for _, x, _ in placed], [y for _, _, y in placed], s=18, color="tab:red", zorder=3)
        if len(placed) <= 30:
            for name, x, y in placed:
                ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 3), fontsize="x-small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_xlabel("operational intensity (ops/byte)")
    ax.set_ylabel("attained performance (ops/cycle)")
    title = "Roofline"
    if skipped:
        title += f" ({skipped} point{'s' if skipped > 1 else ''} with zero ops, bytes or cycles not shown)"
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig
