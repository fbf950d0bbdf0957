"""Lowering GEMM-kind ops to GEMM jobs (im2col), under either cycle convention.

* ``physical``: PyTorch semantics. A convolution with padding ``p`` has
  ``out = floor((in + 2p - kernel) / stride) + 1``; the batch folds into ``m``; groups become
  ``count`` independent GEMMs; the DRAM footprint of the ifmap is the input elements actually
  touched by some window (padding is not stored).
* ``scalesim``: SCALE-Sim v2's lowering (``topology_utils.py``, ``operand_matrix.py``): padding is
  folded into the IFMAP dims, ``out = ceil((in - kernel + stride) / stride)`` (one more row than
  PyTorch when ``in - kernel`` is not a multiple of the stride; the windows that run past the
  edge request nothing), batch 1 (a batch of B is B layers), and a GEMM ``M, N, K`` row is the
  conv ``H=M, W=K, Fh=1, Fw=K, C=1, Nf=N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archsim.workload.graph import CONV_KINDS, Op, OpKind


def _touched(in_len: int, kernel: int, stride: int, pad: int, out_len: int) -> int:
    """How many of ``in_len`` input positions some window reads (padding excluded)."""
    mask = np.zeros(in_len + 2 * pad + kernel + stride * out_len, dtype=bool)
    starts = np.arange(out_len) * stride
    for f in range(kernel):
        mask[starts + f] = True
    return int(mask[pad : pad + in_len].sum())


@dataclass(frozen=True)
class ConvGeometry:
    """A SCALE-Sim conv layer: IFMAP ``ifmap_h x ifmap_w x channels`` (pre-padded), ``num_filters``
    filters of ``filt_h x filt_w``, strides in elements."""

    ifmap_h: int
    ifmap_w: int
    filt_h: int
    filt_w: int
    channels: int
    num_filters: int
    stride_h: int = 1
    stride_w: int = 1

    @property
    def ofmap_h(self) -> int:
        return math.ceil((self.ifmap_h - self.filt_h + self.stride_h) / self.stride_h)

    @property
    def ofmap_w(self) -> int:
        return math.ceil((self.ifmap_w - self.filt_w + self.stride_w) / self.stride_w)

    @property
    def m(self) -> int:
        return self.ofmap_h * self.ofmap_w

    @property
    def k(self) -> int:
        return self.filt_h * self.filt_w * self.channels

    @property
    def n(self) -> int:
        return self.num_filters

    @property
    def ifmap_unique(self) -> int:
        """Distinct IFMAP addresses the im2col matrix requests (windows past the edge excluded)."""
        rows = _touched(self.ifmap_h, self.filt_h, self.stride_h, 0, self.ofmap_h)
        cols = _touched(self.ifmap_w, self.filt_w, self.stride_w, 0, self.ofmap_w)
        return rows * cols * self.channels

    @property
    def has_edge_windows(self) -> bool:
        """True when some window runs past the IFMAP edge (those im2col entries are -1)."""
        return (self.ofmap_h - 1) * self.stride_h + self.filt_h > self.ifmap_h or (
            self.ofmap_w - 1
        ) * self.stride_w + self.filt_w > self.ifmap_w

    def ifmap_addresses(self, offset: int = 0) -> np.ndarray:
        """The ``m x k`` im2col address matrix SCALE-Sim builds (``-1`` past the edge)."""
        i = np.arange(self.m)[:, None]
        j = np.arange(self.k)[None, :]
        orow, ocol = np.divmod(i, self.ofmap_w)
        irow, icol = orow * self.stride_h, ocol * self.stride_w
        crow, rem = np.divmod(j, self.filt_w * self.channels)
        ccol, cch = np.divmod(rem, self.channels)
        valid = (crow + irow < self.ifmap_h) & (ccol + icol < self.ifmap_w)
        addr = ((irow + crow) * self.ifmap_w + (icol + ccol)) * self.channels + cch + offset
        return np.where(valid, addr, -1).astype(np.int64)

    def filter_addresses(self, offset: int = 0) -> np.ndarray:
        """The ``k x n`` filter address matrix (``offset + n*k_total + k``)."""
        return (np.arange(self.n)[None, :] * self.k + np.arange(self.k)[:, None] + offset).astype(np.int64)

    def as_row(self) -> tuple[int, ...]:
        return (self.ifmap_h, self.ifmap_w, self.filt_h, self.filt_w, self.channels, self.num_filters,
                self.stride_h, self.stride_w)


@dataclass(frozen=True)
class GemmJob:
    """``count`` identical GEMMs ``C[m x n] = A[m x k] @ B[k x n]``.

    ``a_elems`` / ``b_elems`` / ``c_elems`` are each GEMM's operand footprints in DRAM
    (elements) and ``a_bytes`` / ``b_bytes`` / ``c_bytes`` the bytes per element (from the tensor
    dtypes; ``mac_bits`` is the wider operand's width); ``geometry`` carries the SCALE-Sim address
    model.
    """

    m: int
    n: int
    k: int
    count: int
    a_elems: int
    b_elems: int
    c_elems: int
    geometry: ConvGeometry
    a_bytes: int = 1
    b_bytes: int = 1
    c_bytes: int = 1

    @property
    def mac_bits(self) -> int:
        return 8 * max(self.a_bytes, self.b_bytes)

    @property
    def macs(self) -> int:
        return self.count * self.m * self.n * self.k


def gemm_geometry(m: int, n: int, k: int) -> ConvGeometry:
    """SCALE-Sim's GEMM-as-conv form (``-i gemm``): ``H=M, W=K, Fh=1, Fw=K, C=1, Nf=N``."""
    return ConvGeometry(m, k, 1, k, 1, n, 1, 1)


def _elem_bytes(op: Op) -> tuple[int, int, int]:
    """Bytes per element of the A operand (the activation input), the B operand (the weight, or
    the second input) and the output; sub-byte dtypes round up to one byte."""
    acts = [t for t in op.inputs if t.role != "weight"]
    weights = [t for t in op.inputs if t.role == "weight"]
    a = acts[0] if acts else (op.inputs[0] if op.inputs else None)
    b = weights[0] if weights else (acts[1] if len(acts) > 1 else a)
    c = op.outputs[0] if op.outputs else a

    def nbytes(t) -> int:
        return max(1, (t.bits_per_element + 7) // 8) if t is not None else 1

    return nbytes(a), nbytes(b), nbytes(c)


def lower_op(op: Op, convention: str) -> GemmJob:
    """Lower a GEMM-kind op (conv kinds, matmul, attention score/context) to a :class:`GemmJob`.
    In the ``scalesim`` convention every element is SCALE-Sim's 1-byte word."""
    sizes = (1, 1, 1) if convention == "scalesim" else _elem_bytes(op)
    if op.kind in CONV_KINDS:
        g = op.attr("groups", 1)
        batch = op.attr("batch", 1)
        cin, cout = op.need("in_ch") // g, op.need("out_ch") // g
        kh, kw = op.need("kernel_h"), op.need("kernel_w")
        sh, sw = op.attr("stride_h", 1), op.attr("stride_w", 1)
        ph, pw = op.attr("pad_h", 0), op.attr("pad_w", 0)
        h, w = op.need("in_h"), op.need("in_w")
        geo = ConvGeometry(h + 2 * ph, w + 2 * pw, kh, kw, cin, cout, sh, sw)
        if convention == "scalesim":
            return GemmJob(geo.m, geo.n, geo.k, g * batch, geo.ifmap_unique, geo.k * geo.n, geo.m * geo.n, geo, *sizes)
        oh, ow = op.conv_out_hw()
        touched = _touched(h, kh, sh, ph, oh) * _touched(w, kw, sw, pw, ow)
        m, k = batch * oh * ow, kh * kw * cin
        return GemmJob(m, cout, k, g, batch * touched * cin, k * cout, m * cout, geo, *sizes)
    if op.kind in (OpKind.MATMUL, OpKind.ATTENTION_SCORE, OpKind.ATTENTION_CONTEXT):
        count, m, n, k = op.gemm_dims()
        return GemmJob(m, n, k, count, m * k, k * n, m * n, gemm_geometry(m, n, k), *sizes)
    raise ValueError(f"op {op.name} of kind {op.kind} is not a GEMM")
