"""The GEMM-tile suite (archsim.rtl.cases) at every Python fidelity level: the product equals
numpy's and the compute cycles equal the closed form ``folds * (T + 2R + C - 2)``. The RTL runs the
same suite in tests/rtl/test_rtl_systolic_array.py."""

import numpy as np
import pytest

from archsim.rtl.cases import gemm_tile_cases, random_cases
from archsim.rtl.levels import LEVELS, run_level

SIZES = [(1, 1), (2, 2), (3, 3), (4, 4), (3, 5), (8, 8)]


def test_suite_expectations_by_hand():
    # 4x4 OS, a 5x6 @ 6x7 tile: Sr = 5 -> 2 row folds, Sc = 7 -> 2 col folds, T = 6:
    # 4 folds of 6 + 8 + 4 - 2 = 16 cycles.
    from archsim.rtl.cases import GemmTileCase

    case = GemmTileCase("hand", "os", 4, 4, np.ones((5, 6), np.int64), np.ones((6, 7), np.int64))
    assert (case.folds, case.expected_fold_cycles, case.expected_cycles) == (4, 16, 64)
    assert case.expected_out[0, 0] == 6
    # WS maps K on rows, N on columns, M in time: Sr = 6 -> 2, Sc = 7 -> 2, T = 5: 4 x 15
    ws = GemmTileCase("hand", "ws", 4, 4, case.a, case.b)
    assert ws.expected_cycles == 4 * 15


def test_suite_is_deterministic_and_long_enough():
    a = gemm_tile_cases(4, 4, seed=3)
    b = gemm_tile_cases(4, 4, seed=3)
    assert [c.name for c in a] == [c.name for c in b]
    assert all(np.array_equal(x.a, y.a) and np.array_equal(x.b, y.b) for x, y in zip(a, b))
    for df in ("os", "ws", "is"):
        assert sum(c.expected_cycles for c in a if c.dataflow == df) >= 1000
    assert [c.name for c in gemm_tile_cases(4, 4, seed=4)] != [c.name for c in a]
    assert sum(c.expected_cycles for c in random_cases(2, 2, "ws", seed=0, min_cycles=300)) >= 300


@pytest.mark.parametrize("rows,cols", SIZES)
@pytest.mark.parametrize("level", LEVELS)
def test_every_level_meets_the_suite(level, rows, cols):
    cases = gemm_tile_cases(rows, cols, seed=0, min_cycles=300 if level in ("cycle", "ports") else 1000)
    for case in cases:
        res = run_level(case, level)
        assert res.cycles == case.expected_cycles, (case.name, res.fold_cycles)
        assert all(f == case.expected_fold_cycles for f in res.fold_cycles), case.name
        if res.out is not None:
            np.testing.assert_array_equal(res.out, case.expected_out, err_msg=case.name)
