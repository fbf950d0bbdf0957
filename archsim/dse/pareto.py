"""Pareto fronts of sweep rows, and their plot.

A point is on the front when no other point is at least as good in every objective and better in
one (objectives are minimised unless named in ``maximize``). Identical points are all kept.
Rows whose objectives are missing (error rows) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archsim.errors import InputError


def pareto_mask(values: np.ndarray, maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (``n x d``, minimised per column
    unless ``maximize[j]``). O(n log n) for two objectives, O(n^2) beyond."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-d array (points x objectives)")
    if maximize is not None:
        v = np.where(np.asarray(maximize, dtype=bool)[None, :], -v, v)
    n, d = v.shape
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if d == 1:
        return v[:, 0] == v[:, 0].min()
    if d == 2:
        order = np.lexsort((v[:, 1], v[:, 0]))  # by x, then y
        best_before = np.inf  # lowest y among points with a smaller x
        i = 0
        while i < n:
            j = i
            x = v[order[i], 0]
            while j < n and v[order[j], 0] == x:
                j += 1
            group = order[i:j]
            gmin = v[group, 1].min()
            if gmin < best_before:
                mask[group[v[group, 1] == gmin]] = True
                best_before = gmin
            i = j
        return mask
    for i in range(n):
        le = np.all(v <= v[i], axis=1)
        lt = np.any(v < v[i], axis=1)
        mask[i] = not np.any(le & lt)
    return mask


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    return any(isinstance(r.get(column), int | float) and not isinstance(r.get(column), bool) for r in rows)


def numeric_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cols = dict.fromkeys(k for r in rows for k in r)
    return [c for c in cols if c not in ("point",) and _numeric(rows, c)]


def check_objective(rows: Sequence[Mapping[str, Any]], column: str, flag: str, source: str | None = None) -> None:
    if not _numeric(rows, column):
        raise InputError(source or flag, None, f"a numeric column of the sweep rows ({', '.join(numeric_columns(rows))})",
                         column)


def pareto_front(rows: Sequence[Mapping[str, Any]], x: str, y: str, *, maximize: Sequence[str] = (),
                 ) -> list[Mapping[str, Any]]:
    """The rows on the Pareto front of objectives ``x`` and ``y`` (minimised unless named in
    ``maximize``), sorted by ``x`` then ``y``; rows without both values are left out."""
    usable = [r for r in rows if all(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool)
                                     for c in (x, y))]
    if not usable:
        return []
    vals = np.array([[float(r[x]), float(r[y])] for r in usable])
    mask = pareto_mask(vals, [x in maximize, y in maximize])
    front = [r for r, m in zip(usable, mask) if m]
    sx = -1 if x in maximize else 1
    sy = -1 if y in maximize else 1
    return sorted(front, key=lambda r: (sx * r[x], sy * r[y], r.get("point", 0)))


def _log_scale(values: Sequence[float]) -> bool:
    vals = [v for v in values if v is not None]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) > 10


def pareto_figure(groups: Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]], x: str,
                  y: str, *, title: str = "", label_points: bool = True) -> Any:
    """All points (small, faint) and each group's front (markers joined by a step line, labelled
    with their point numbers when there are at most 30). ``groups``: ``name -> (rows, front
    rows)``. An axis is logarithmic when its values span more than a factor of 10. Returns a
    matplotlib Figure (save it with ``archsim.report.plots.save_png``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    xs_all, ys_all = [], []
    for i, (name, (rows, front)) in enumerate(groups.items()):
        color = colors[i % len(colors)]
        pts = [(float(r[x]), float(r[y])) for r in rows if isinstance(r.get(x), int | float)
               and isinstance(r.get(y), int | float)]
        xs_all += [p[0] for p in pts]
        ys_all += [p[1] for p in pts]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=10, color=color, alpha=0.25, linewidths=0)
        fx = [float(r[x]) for r in front]
        fy = [float(r[y]) for r in front]
        label = f"{name}: front ({len(front)} of {len(pts)})" if name else f"front ({len(front)} of {len(pts)})"
        ax.step(fx, fy, where="post", color=color, linewidth=1.2)
        ax.scatter(fx, fy, s=28, color=color, edgecolors="k", linewidths=0.5, zorder=3, label=label)
        if label_points and sum(len(f) for _, f in groups.values()) <= 30:
            for r, px, py in zip(front, fx, fy):
                ax.annotate(str(r.get("point", "")), (px, py), textcoords="offset points", xytext=(4, 3),
                            fontsize="x-small", color=color)
    if _log_scale(xs_all):
        ax.set_xscale("log")
    if _log_scale(ys_all):
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title or f"Pareto front: {y} vs {x}")
    if label_points:
        ax.text(0.01, 0.01, "labels: point numbers (archsim pareto prints them)", transform=ax.transAxes,
                fontsize="x-small", color="0.4")
    ax.grid(True, which="both", alpha=0.3)
    if groups:
        ax.legend(loc="upper right", fontsize="small")
    return fig
