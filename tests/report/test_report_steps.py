"""Step functions over spans (the counters' and plots' data)."""

from __future__ import annotations

import numpy as np

from archsim.report.steps import bin_average, max_steps, rate_steps


def test_max_steps_takes_the_max_of_overlaps_and_returns_to_zero():
    steps = max_steps([0, 5, 6, 20], [10, 15, 8, 22], [0.3, 0.8, 0.5, 0.2])
    assert steps == [(0, 0.3), (5, 0.8), (15, 0.0), (20, 0.2), (22, 0.0)]


def test_max_steps_merges_equal_neighbours_and_skips_empty_spans():
    assert max_steps([0, 4, 7], [4, 8, 7], [1.0, 1.0, 0.9]) == [(0, 1.0), (8, 0.0)]
    assert max_steps([], [], []) == []


def test_rate_steps_adds_overlaps_exactly():
    # 10 B over 3 cycles and 20 B over 7 cycles overlap on [2, 3)
    steps = rate_steps([0, 2], [3, 9], [10, 20])
    assert steps == [(0, 10 / 3), (2, 10 / 3 + 20 / 7), (3, 20 / 7), (9, 0.0)]
    assert steps[-1][1] == 0.0  # exactly, no float residue


def test_bin_average_is_time_weighted():
    steps = [(0, 0.5), (10, 1.0), (20, 0.0)]
    assert bin_average(steps, [0, 5, 10, 15, 20]).tolist() == [0.5, 0.5, 1.0, 1.0]
    np.testing.assert_allclose(bin_average(steps, np.linspace(0, 20, 4)), [0.5, 0.75, 1.0])
    np.testing.assert_allclose(bin_average([(4, 1.0), (6, 0.0)], [0, 8]), [0.25])  # 0 before the first point
    assert bin_average([], [0, 1, 2]).tolist() == [0.0, 0.0]
