"""``archsim quantize``: quantize a tensor (.npy) to a number format and report error and size.

    archsim quantize --format bfp12 --block 32 keys.npy
    archsim quantize --format bfp12 --block 32 --sort-channels --head-dim 128 keys.npy
    archsim quantize --format bitmod-fp3 weights.npy --out weights_q.npy --json

Blocks/groups run along ``--axis`` (default: the last). ``--sort-channels`` applies K-sort first:
the channels on that axis are permuted by their L2 norm over the file's other axes, within heads
of ``--head-dim`` (rotary pairs kept together with ``--rope``); the error is measured after
undoing the permutation, and the unsorted result is reported next to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from archsim.argtypes import nonneg_int
from archsim.errors import InputError

NAME = "quantize"
HELP = "quantize a .npy tensor to a number format; report MSE, SQNR and bits per element"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a .npy file (numeric array)")
    p.add_argument("--format", required=True, dest="fmt",
                   help="number format: int4, int8, int4-asym, fp4, fp3, fp3-er, fp3-ea, fp4-er, fp4-ea, bitmod-fp3, "
                   "bitmod-fp4, bfp12, bfp16, mxint8, mxfp4, fp16, ...")
    p.add_argument("--block", type=nonneg_int, help="block size of block formats (16, 32, 64, 128)")
    p.add_argument("--group", type=nonneg_int, help="group size of group-scaled formats (0: one per row)")
    p.add_argument("--scale-format", choices=("fp16", "fp32", "uint8"), help="group scale storage")
    p.add_argument("--rounding", choices=("even", "nearest"), help="tie rule of block formats")
    p.add_argument("--axis", type=int, default=-1, help="axis the groups/blocks run along (default -1)")
    p.add_argument("--sort-channels", action="store_true", help="K-sort the channels on --axis by norm first")
    p.add_argument("--head-dim", type=nonneg_int, help="sort within heads of this many channels")
    p.add_argument("--rope", action="store_true", help="keep rotary pairs (i, i + head_dim/2) together")
    p.add_argument("--out", type=Path, help="write the dequantized array here (.npy)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def load_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(path, None, "an existing .npy file") from None
    except (ValueError, OSError, EOFError) as e:
        raise InputError(path, None, "a readable .npy file (numeric, no pickles)", str(e)) from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf" or arr.size == 0:
        raise InputError(path, None, "a non-empty integer or floating-point array",
                         getattr(arr, "dtype", type(arr).__name__))
    if not np.all(np.isfinite(arr)):
        raise InputError(path, None, "finite values (no NaN or Inf)")
    return arr.astype(np.float64)


def quantize_report(x: np.ndarray, fmt, *, axis: int, sort: bool, head_dim: int | None,
                    rope: bool) -> tuple[dict, np.ndarray]:
    """``(report, dequantized x)``: error and storage of ``x`` in ``fmt`` (and, with ``sort``,
    after K-sort; the dequantized array is then the sorted run's, permuted back)."""
    from archsim.numerics import error_report, inverse, sort_channels

    def one(data: np.ndarray, perm: np.ndarray | None) -> tuple[dict, np.ndarray]:
        q = fmt.quantize(data, axis=axis)
        y = q.dequantize()
        if perm is not None:
            y = np.take(y, inverse(perm), axis=axis)
        bits = q.storage_bits()
        return {**error_report(x, y), "storage_bits": bits, "storage_bits_per_element": bits / x.size}, y

    base, y = one(x, None)
    report = {"format": fmt.describe(), "shape": list(x.shape), "axis": axis, "elements": int(x.size),
              "bits_per_element": fmt.bits_per_element, "unsorted": base}
    if sort:
        xs, perm = sort_channels(x, axis, head_dim=head_dim or None, rope=rope)
        sorted_rep, y = one(xs, perm)
        report["sorted"] = sorted_rep
        report["head_dim"] = head_dim or int(x.shape[axis])
        report["rope"] = rope
    return report, y


def _finite(obj):
    """JSON has no infinities: an infinite SQNR (exact quantization) becomes null."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _text(rep: dict, path: Path) -> str:
    f = rep["format"]
    lines = [f"archsim quantize: {path} {tuple(rep['shape'])} -> {f['name']} "
             f"(group/block {f['group_size'] or 'row'} along axis {rep['axis']})",
             f"bits per element: {rep['bits_per_element']:.6g} (elements {f['element_bits']} + "
             f"{f['metadata_bits_per_group']} metadata bits per group)", ""]
    rows = [("unsorted", rep["unsorted"])] + ([("sorted", rep["sorted"])] if "sorted" in rep else [])
    lines.append(f"{'':10s} {'MSE':>14s} {'SQNR dB':>9s} {'max |err|':>12s} {'stored bits/elem':>17s}")
    for name, r in rows:
        lines.append(f"{name:10s} {r['mse']:14.6e} {r['sqnr_db']:9.3f} {r['max_abs_error']:12.6e} "
                     f"{r['storage_bits_per_element']:17.6f}")
    if "sorted" in rep:
        u, s = rep["unsorted"]["mse"], rep["sorted"]["mse"]
        lines.append(f"\nK-sort (head_dim {rep['head_dim']}{', rope pairs' if rep['rope'] else ''}): "
                     f"MSE x{(u / s if s else float('inf')):.3f} lower")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from archsim.numerics import get_format
    from archsim.numerics.grouping import normalize_axis

    if args.block is not None and args.group is not None and args.block != args.group:
        raise InputError("--block", None, f"the same value as --group ({args.group})", args.block)
    if (args.head_dim or args.rope) and not args.sort_channels:
        raise InputError("--head-dim/--rope", None, "--sort-channels as well")
    fmt = get_format(args.fmt, group_size=args.group, block=args.block, scale_format=args.scale_format,
                     rounding=args.rounding)
    x = load_npy(args.file)
    axis = normalize_axis(args.axis, x.ndim)
    rep, y = quantize_report(x, fmt, axis=axis, sort=args.sort_channels, head_dim=args.head_dim, rope=args.rope)
    if args.out is not None:
        from archsim.report.atomic import atomic_open

        if args.out.suffix != ".npy":
            raise InputError("--out", None, "a .npy path", str(args.out))
        if not args.out.parent.is_dir():
            raise InputError("--out", None, "a path in an existing directory", str(args.out))
        with atomic_open(args.out, "wb") as f:
            np.save(f, y)
        rep["out"] = str(args.out)
    if args.json:
        sys.stdout.write(json.dumps(_finite(rep), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(_text(rep, args.file))
    return 0
