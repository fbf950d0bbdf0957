"""Plots: numbers behind them, figure content, deterministic PNG bytes."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.report import plots


def test_utilization_bins_by_hand(events):
    edges, means = plots.utilization_bins(events, bins=4)
    assert edges.tolist() == [0, 5, 10, 15, 20]
    assert list(means) == ["pe", "dram"]
    assert means["pe"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert means["dram"].tolist() == [0.0, 0.0, 0.0, 0.0]
    edges, means = plots.utilization_bins(events, bins=3, unit="pe")
    assert list(means) == ["pe"]
    np.testing.assert_allclose(means["pe"], [0.5, 0.75, 1.0])


def test_utilization_bins_never_exceed_run_length():
    ev = EventTable()
    ev.append(0, 3, "pe", "a", "compute", util=1.0)
    edges, means = plots.utilization_bins(ev, bins=200)
    assert edges.tolist() == [0, 1, 2, 3]


def test_utilization_rejects_unknown_unit(events):
    with pytest.raises(InputError, match="nope"):
        plots.utilization_over_time(events, unit="nope")


def test_utilization_figure_axes(events):
    fig = plots.utilization_over_time(events)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "cycle"
    assert ax.get_xlim() == (0.0, 20.0)
    top = ax.child_axes[0]
    assert top.get_xlabel().startswith("time (ns)")


def test_energy_breakdown_sorted_with_percentages(result):
    fig = plots.energy_breakdown(result.energy_breakdown_pj)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sram", "mac", "dram"]  # largest on top
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["10 pJ (2.5%)", "100 pJ (25.0%)", "290.2 pJ (72.5%)"]
    assert "total 400.2 pJ" in ax.get_title()


def test_per_op_bars_top_n(make_run):
    ops = [{"op": f"op{i}", "cycles": c} for i, c in enumerate([5, 50, 20, 40, 1])]
    fig = plots.per_op_bars(make_run(ops=ops), top=3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["op2", "op3", "op1"]
    assert [p.get_width() for p in ax.patches] == [20.0, 40.0, 50.0]
    assert ax.get_title() == "cycles per op (top 3 of 5)"
    with pytest.raises(InputError, match="metric"):
        plots.per_op_bars(make_run(ops=ops), metric="energy_pj")


def test_roofline(tmp_path):
    points = [
        {"name": "gemm", "ops": 2e6, "bytes": 1e4, "cycles": 1e4},
        {"name": "softmax", "ops": 1e4, "bytes": 4e4, "cycles": 2e3},
        {"name": "on-chip", "ops": 1e3, "bytes": 0, "cycles": 10},
    ]
    fig = plots.roofline(points, peak_ops_per_cycle=256, bytes_per_cycle=32)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "1 point with zero ops, bytes or cycles" in ax.get_title()
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[200, 200], [0.25, 5]])
    with pytest.raises(InputError, match="bytes_per_cycle"):
        plots.roofline(points, 256, 0)


def test_empty_inputs_still_draw(tmp_path, make_run):
    for fig in (
        plots.utilization_over_time(EventTable()),
        plots.energy_breakdown({}),
        plots.per_op_bars(make_run(ops=[])),
    ):
        assert plots.render_png(fig).startswith(b"\x89PNG")


def test_png_bytes_are_deterministic_and_untagged(tmp_path, events, result):
    a = plots.save_png(plots.utilization_over_time(events), tmp_path / "a.png")
    b = plots.save_png(plots.utilization_over_time(events), tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes()
    e1 = plots.render_png(plots.energy_breakdown(result.energy_breakdown_pj))
    e2 = plots.render_png(plots.energy_breakdown(result.energy_breakdown_pj))
    assert e1 == e2
