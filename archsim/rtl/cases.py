"""The GEMM-tile stimulus suite, written once and run at every fidelity level.

A case is a GEMM ``a @ b`` (int8 operands) on an ``R x C`` array in one dataflow. Its expectations
are independent of every model: the product from numpy and the cycle count from the closed form
of the physical convention, ``ceil(Sr/R) * ceil(Sc/C) * (T + 2R + C - 2)`` (docs/systolic.md),
written out here. tests/rtl/test_ladder.py runs the suite against the analytic, event and cycle
levels and the port-level model; rtl/systolic_array's bench runs it against the RTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATAFLOWS = ("os", "ws", "is")


def _ceil(x: int, y: int) -> int:
    return -(-x // y)


def mnk(dataflow: str, sr: int, sc: int, t: int) -> tuple[int, int, int]:
    """``(M, N, K)`` of a GEMM whose rows-dim, columns-dim and streamed dim are ``sr, sc, t``."""
    return {"os": (sr, sc, t), "ws": (t, sc, sr), "is": (sc, t, sr)}[dataflow]


@dataclass(frozen=True)
class GemmTileCase:
    name: str
    dataflow: str
    rows: int
    cols: int
    a: np.ndarray  # M x K, int8 values
    b: np.ndarray  # K x N

    @property
    def m(self) -> int:
        return self.a.shape[0]

    @property
    def k(self) -> int:
        return self.a.shape[1]

    @property
    def n(self) -> int:
        return self.b.shape[1]

    def dims(self) -> tuple[int, int, int]:
        """``(Sr, Sc, T)``: what maps onto the array rows, the columns, and time."""
        m, n, k = self.m, self.n, self.k
        return {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[self.dataflow]

    @property
    def folds(self) -> int:
        sr, sc, _ = self.dims()
        return _ceil(sr, self.rows) * _ceil(sc, self.cols)

    @property
    def expected_fold_cycles(self) -> int:
        return self.dims()[2] + 2 * self.rows + self.cols - 2

    @property
    def expected_cycles(self) -> int:
        """Compute cycles of the whole tile: every fold takes ``T + 2R + C - 2``."""
        return self.folds * self.expected_fold_cycles

    @property
    def expected_out(self) -> np.ndarray:
        return self.a.astype(np.int64) @ self.b.astype(np.int64)


def _case(name, df, rows, cols, sr, sc, t, rng, fill=None) -> GemmTileCase:
    m, n, k = mnk(df, sr, sc, t)
    if fill is None:
        a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (k, n))
    else:
        a, b = fill(rng, (m, k)), fill(rng, (k, n))
    return GemmTileCase(f"{df}-{name}-{m}x{k}x{n}", df, rows, cols, a.astype(np.int64), b.astype(np.int64))


def _extremes(rng, shape):
    return rng.choice(np.array([-128, 127, -1, 0, 1]), size=shape)


def directed_cases(rows: int, cols: int, dataflow: str, seed: int = 0) -> list[GemmTileCase]:
    """Hand-picked tiles: one exact fold, int8 corner values, partial folds in both dimensions,
    a one-step stream, a long stream, and an identity operand."""
    R, C, df = rows, cols, dataflow
    rng = np.random.default_rng([seed, R, C, DATAFLOWS.index(df), 0])
    cases = [
        _case("exact", df, R, C, R, C, 3, rng),
        _case("extremes", df, R, C, R, C, 2 * R + 1, rng, fill=_extremes),
        _case("partial", df, R, C, R + 1, C + max(C - 1, 1), R + 2, rng),
        _case("t1", df, R, C, R, C, 1, rng),
        _case("long", df, R, C, max(R - 1, 1), C, 4 * (R + C), rng),
    ]
    eye = np.eye(max(R, C) + 1, dtype=np.int64)
    b = rng.integers(-128, 128, (eye.shape[1], C + 1))
    cases.append(GemmTileCase(f"{df}-identity-{eye.shape[0]}x{eye.shape[1]}x{C + 1}", df, R, C, eye, b))
    return cases


def random_cases(rows: int, cols: int, dataflow: str, *, seed: int = 0, min_cycles: int = 1000) -> list[GemmTileCase]:
    """Seeded random tiles (shapes up to twice the array, values uniform int8) until their
    expected cycles add up to ``min_cycles``."""
    rng = np.random.default_rng([seed, rows, cols, DATAFLOWS.index(dataflow), 1])
    cases: list[GemmTileCase] = []
    total, hi = 0, 2 * max(rows, cols) + 2
    while total < min_cycles:
        sr, sc, t = (int(x) for x in rng.integers(1, hi + 1, 3))
        case = _case(f"random{len(cases)}", dataflow, rows, cols, sr, sc, t, rng)
        cases.append(case)
        total += case.expected_cycles
    return cases


def gemm_tile_cases(rows: int, cols: int, *, seed: int = 0, min_cycles: int = 1000,
                    dataflows: tuple[str, ...] = DATAFLOWS) -> list[GemmTileCase]:
    """The whole suite: per dataflow the directed tiles, then random tiles until the dataflow's
    tiles take at least ``min_cycles`` cycles in total."""
    out: list[GemmTileCase] = []
    for df in dataflows:
        directed = directed_cases(rows, cols, df, seed)
        out += directed
        rest = min_cycles - sum(c.expected_cycles for c in directed)
        out += random_cases(rows, cols, df, seed=seed, min_cycles=max(rest, 1))
    return out


# ---- the PE: per-cycle input vectors -----------------------------------------------------------

def _pe_inputs(**kw) -> dict:
    base = dict(rst=0, en=1, clr=0, mode=0, load=0, drain=0, a_in=0, a_v_in=0, a_last_in=0, b_in=0, b_v_in=0,
                psum_in=0)
    base.update(kw)
    return base


def mac_pe_directed(acc_bits: int = 32) -> list[dict]:
    """Hand-written input sequences: an OS dot product and its drain, a WS load and stream, the
    fold-start clear, hold (``en = 0``), a reset mid-run, and int8 corners until the accumulator
    wraps (``2^(acc_bits-1) / 16384`` products of -128 * -128)."""
    seq = [_pe_inputs(clr=1, a_in=3, a_v_in=1, b_in=-4, b_v_in=1)]
    seq += [_pe_inputs(a_in=x, a_v_in=1, b_in=y, b_v_in=1, a_last_in=int(i == 3))
            for i, (x, y) in enumerate([(1, 2), (-5, 7), (127, -128), (-128, -128)])]
    seq += [_pe_inputs(a_in=9, a_v_in=1, b_in=9, b_v_in=0), _pe_inputs(a_in=9, a_v_in=0, b_in=9, b_v_in=1)]
    seq += [_pe_inputs(drain=1, psum_in=v) for v in (123, -77, 0)]
    seq += [_pe_inputs(mode=1, load=1, clr=1, b_in=-7), _pe_inputs(mode=1, load=1, b_in=5)]
    seq += [_pe_inputs(mode=1, a_in=x, a_v_in=1, psum_in=p) for x, p in [(3, 100), (-128, -1), (127, 2**20)]]
    seq += [_pe_inputs(mode=1, a_in=4, a_v_in=0, psum_in=55), _pe_inputs(en=0, a_in=1, a_v_in=1, b_in=1, b_v_in=1)]
    seq += [_pe_inputs(rst=1, a_in=1, a_v_in=1), _pe_inputs(a_in=2, a_v_in=1, b_in=3, b_v_in=1, clr=1)]
    n_wrap = (1 << (acc_bits - 1)) // 16384 + 2
    seq += [_pe_inputs(a_in=-128, a_v_in=1, b_in=-128, b_v_in=1) for _ in range(min(n_wrap, 300))]
    big = (1 << (acc_bits - 1)) - 1
    seq += [_pe_inputs(mode=1, a_in=127, a_v_in=1, psum_in=big), _pe_inputs(mode=1, a_in=-128, a_v_in=1, psum_in=-big - 1)]
    return seq


def mac_pe_random(seed: int = 0, cycles: int = 1000, acc_bits: int = 32) -> list[dict]:
    """Seeded random inputs in three segments: OS streams with occasional drains, WS loads and
    streams, and every input random (with rare resets)."""
    rng = np.random.default_rng([seed, acc_bits, 2])
    lo, hi = -(1 << (acc_bits - 1)), 1 << (acc_bits - 1)
    seq = []

    def rand_int8():
        return int(rng.integers(-128, 128))

    for c in range(cycles):
        seg = 3 * c // cycles
        if seg == 0:
            seq.append(_pe_inputs(clr=int(rng.random() < 0.03), drain=int(rng.random() < 0.15), a_in=rand_int8(),
                                  a_v_in=int(rng.random() < 0.8), a_last_in=int(rng.random() < 0.1), b_in=rand_int8(),
                                  b_v_in=int(rng.random() < 0.8), psum_in=int(rng.integers(lo, hi))))
        elif seg == 1:
            seq.append(_pe_inputs(mode=1, clr=int(rng.random() < 0.03), load=int(rng.random() < 0.2),
                                  a_in=rand_int8(), a_v_in=int(rng.random() < 0.8), a_last_in=int(rng.random() < 0.1),
                                  b_in=rand_int8(), b_v_in=int(rng.random() < 0.5), psum_in=int(rng.integers(lo, hi))))
        else:
            seq.append(_pe_inputs(rst=int(rng.random() < 0.01), en=int(rng.random() < 0.9), clr=int(rng.random() < 0.1),
                                  mode=int(rng.integers(0, 2)), load=int(rng.integers(0, 2)), drain=int(rng.integers(0, 2)),
                                  a_in=rand_int8(), a_v_in=int(rng.integers(0, 2)), a_last_in=int(rng.integers(0, 2)),
                                  b_in=rand_int8(), b_v_in=int(rng.integers(0, 2)), psum_in=int(rng.integers(lo, hi))))
    return seq
