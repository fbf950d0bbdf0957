"""The PE model (MacPE) by itself, and PEArray reduced to a grid of MacPEs.

The grid below is wired like rtl/systolic_array.v (input skew registers, neighbour wiring gated on
the first beat, the controller and the WS de-skew) but built only from MacPE; stepped beat by beat
next to ArrayPorts (a PEArray behind the array's pins), every register and pin must agree on every
cycle. Expected PE values are worked out by hand.
"""

from collections import deque

import numpy as np
import pytest

from archsim.hw.systolic.pe import MacPE, wrap
from archsim.hw.systolic.ports import PE_REGISTERS, ArrayPorts, Beat, tile_folds


def test_os_mac_by_hand():
    pe = MacPE()
    assert pe.step(a_in=3, a_v_in=1, b_in=-4, b_v_in=1)["acc"] == -12
    assert pe.step(a_in=-128, a_v_in=1, b_in=-128, b_v_in=1)["acc"] == -12 + 16384
    assert pe.step(a_in=5, a_v_in=1, b_in=7, b_v_in=0)["acc"] == 16372  # b not valid: no MAC
    s = pe.step(drain=1, psum_in=99, a_in=1, a_v_in=1)
    assert (s["acc"], s["a"], s["a_v"]) == (99, 5, 1)  # drain: acc shifts in, operands hold
    s = pe.step(clr=1, a_in=2, a_v_in=1, b_in=2, b_v_in=1)
    assert s["acc"] == 4  # the first beat of a fold starts from an empty PE


def test_ws_partial_sum_by_hand():
    pe = MacPE()
    pe.step(mode=1, load=1, b_in=-3)
    s = pe.step(mode=1, a_in=10, a_v_in=1, psum_in=1000)
    assert (s["acc"], s["b"], s["a"]) == (970, -3, 10)
    assert pe.step(mode=1, a_in=10, a_v_in=0, psum_in=7)["acc"] == 7  # invalid a: partial sum passes
    assert pe.step(en=0, mode=1, a_in=1, a_v_in=1, psum_in=1)["acc"] == 7  # en=0 holds
    assert pe.step(rst=1)["b"] == 0


def test_accumulator_wraps_at_its_width():
    pe = MacPE(acc_bits=20)
    for _ in range(32):
        s = pe.step(a_in=-128, a_v_in=1, b_in=-128, b_v_in=1)
    assert s["acc"] == 32 * 16384 - (1 << 20)  # 2^19 wraps to -2^19
    assert wrap(1 << 19, 20) == -(1 << 19) and wrap(-1, 8) == -1 and wrap(255, 8) == -1
    with pytest.raises(ValueError):
        MacPE(acc_bits=16)


class Grid:
    """rtl/systolic_array.v built from MacPE (a test double, not a model)."""

    def __init__(self, R, C):
        self.R, self.C = R, C
        self.pe = [[MacPE() for _ in range(C)] for _ in range(R)]
        self.askew = [deque([(0, 0, 0)] * i) for i in range(R)]  # (a, valid, last), oldest right
        self.bskew = [deque([(0, 0)] * j) for j in range(C)]
        self.deskew = [deque([0] * (C - 1 - j)) for j in range(C)]
        self.mode_r = self.draining = self.drain_cnt = self.row_cnt = 0
        self.busy = self.done = self.out_valid = self.out_row = 0
        self.os_out = [0] * C

    @staticmethod
    def _through(line, head):
        if not line:
            return head
        line.appendleft(head)
        return line.pop()

    def step(self, bt: Beat):
        R, C = self.R, self.C
        md = bt.mode if bt.start else self.mode_r
        en, clr = self.busy or bt.start, bt.start
        beat = bt.valid and not bt.load
        a_vec, b_vec = bt.a or (0,) * R, bt.b or (0,) * C
        edge_a = [self._through(self.askew[i], (a_vec[i] if beat else 0, int(beat), int(beat and bt.last)))
                  for i in range(R)]
        os_b = beat and not md
        edge_b = [self._through(self.bskew[j], (b_vec[j] if os_b else 0, int(os_b))) for j in range(C)]
        view = [[p.view(clr) for p in row] for row in self.pe]
        ins = [[None] * C for _ in range(R)]
        for i in range(R):
            for j in range(C):
                a, av, al = edge_a[i] if j == 0 else (view[i][j - 1]["a"], view[i][j - 1]["a_v"], view[i][j - 1]["a_last"])
                if i == 0:
                    (b, bv), ps = ((b_vec[j], 0) if md else edge_b[j]), 0
                else:
                    b, bv, ps = view[i - 1][j]["b"], view[i - 1][j]["b_v"], view[i - 1][j]["acc"]
                ins[i][j] = dict(a_in=a, a_v_in=av, a_last_in=al, b_in=b, b_v_in=bv, psum_in=ps)
        br = ins[R - 1][C - 1]
        ws_row = md and not bt.load and br["a_v_in"]
        last_in = not self.draining and br["a_v_in"] and br["a_last_in"] and ((not bt.load) if md else br["b_v_in"])
        bottom = [p.acc for p in self.pe[R - 1]]
        drain = self.draining
        # registers update on the edge
        done = out_valid = 0
        if bt.start:
            self.mode_r, self.busy, self.draining, self.drain_cnt, self.row_cnt = bt.mode, 1, 0, 0, 0
        if en:
            if self.draining:
                out_valid, self.out_row, self.os_out = 1, R - 1 - self.drain_cnt, bottom
                if self.drain_cnt == R - 1:
                    self.draining, self.busy, done = 0, 0, 1
                else:
                    self.drain_cnt += 1
            elif last_in and not md:
                self.draining, self.drain_cnt = 1, 0
            elif last_in:
                self.busy, done = 0, 1
            if ws_row:
                out_valid, self.out_row = 1, self.row_cnt
                self.row_cnt += 1
            for j in range(C - 1):
                self._through(self.deskew[j], bottom[j])
        for i in range(R):
            for j in range(C):
                self.pe[i][j].step(en=en, clr=clr, mode=md, load=int(bt.load), drain=drain, **ins[i][j])
        self.done, self.out_valid = done, out_valid

    def snapshot(self):
        snap = {"busy": self.busy, "done": self.done, "out_valid": self.out_valid}
        if self.out_valid:
            snap["out_row"] = self.out_row
            if self.mode_r:
                snap["out_data"] = [self.deskew[j][-1] for j in range(self.C - 1)] + [self.pe[-1][-1].acc]
            else:
                snap["out_data"] = self.os_out
        for name in PE_REGISTERS:
            snap[name] = np.array([[getattr(p, name) for p in row] for row in self.pe])
        return snap


def _check_same(cycle, got, want):
    assert set(got) == set(want), f"cycle {cycle}: {set(got) ^ set(want)}"
    for key in want:
        assert np.array_equal(np.asarray(got[key]), np.asarray(want[key])), f"cycle {cycle}: {key}: {got[key]} vs {want[key]}"


@pytest.mark.parametrize("R,C", [(1, 1), (2, 2), (3, 2), (2, 4), (4, 4)])
def test_pearray_is_a_grid_of_mac_pes(R, C):
    """PEArray (through ArrayPorts) equals a grid of MacPEs on every register and pin, every cycle,
    for back-to-back OS/WS/IS folds with idle gaps, partial folds included."""
    rng = np.random.default_rng(R * 10 + C)
    ports, grid = ArrayPorts(R, C), Grid(R, C)
    cycles = 0
    for df in ("os", "ws", "is", "ws", "os", "is"):
        m, n, k = (int(x) for x in rng.integers(1, 2 * max(R, C) + 2, 3))
        a = rng.integers(-128, 128, (m, k))
        b = rng.integers(-128, 128, (k, n))
        for fold in tile_folds(a, b, df, R, C):
            ports.start_fold(df, fold.stream, fold.stationary_or_b, fold.real_rows, fold.real_cols)
            while True:
                beat, want = ports.step()
                grid.step(beat)
                cycles += 1
                _check_same(cycles, grid.snapshot(), want)
                if want["done"]:
                    break
            for _ in range(int(rng.integers(0, 3))):  # idle cycles: everything holds
                beat, want = ports.step()
                grid.step(beat)
                _check_same(cycles, grid.snapshot(), want)
    assert cycles > 50
