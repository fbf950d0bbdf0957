"""SCALE-Sim v2 topology CSVs: read them into a :class:`Graph`, and write a graph as one.

Two forms, told apart by the header (SCALE-Sim ``topology_utils.py``):

* conv: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
  Strides[, Stride width]`` — IFMAP dims are pre-padded, so each row becomes a CONV2D with pad 0 and
  batch 1. A row may carry an 8th number (stride width; otherwise it equals ``Strides``). A layer
  whose name contains ``DP`` is depthwise: SCALE-Sim runs it as ``Channels`` one-channel layers of
  ``Num Filter`` filters each, i.e. a DEPTHWISE_CONV2D with ``groups = Channels`` and
  ``out_ch = Channels * Num Filter``.
* GEMM: ``Layer, M, N, K`` — each row a MATMUL (batch 1) of ``M x K`` by ``K x N``.

Rows are independent layers (no edges between them). Reading tolerates spaces, trailing commas
(or their absence), blank lines and all-empty junk lines; bad values raise one InputError naming
the file, line, column and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path

from archsim.errors import InputError, read_input_text
from archsim.workload.builders.layers import out_len
from archsim.workload.graph import CONV_KINDS, GEMM_KINDS, Graph, Op, OpKind, Tensor

CONV_COLUMNS = (
    "Layer name",
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
    "Stride width",
)
GEMM_COLUMNS = ("Layer", "M", "N", "K")
#: header written by :func:`export_scalesim_csv` (SCALE-Sim's own topology files use it)
CONV_HEADER = ", ".join(CONV_COLUMNS[:8]) + ","

_INT = re.compile(r"\+?[0-9]+")


def _cells(line: str) -> list[str]:
    """Comma-separated cells, stripped, without trailing empty cells."""
    cells = [c.strip() for c in line.split(",")]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _detect_form(cells: list[str], source: str, lineno: int) -> str:
    norm = [re.sub(r"\s+", " ", c).lower() for c in cells]
    if len(norm) in (8, 9) and norm[0].startswith("layer") and norm[1:3] == ["ifmap height", "ifmap width"]:
        return "conv"
    if len(norm) == 4 and norm[0].startswith("layer") and norm[1:] == ["m", "n", "k"]:
        return "gemm"
    raise InputError(
        source, f"line {lineno}",
        f"a SCALE-Sim header ('{CONV_HEADER}' or 'Layer, M, N, K,')", ", ".join(cells),
    )


class _Row:
    """One data row: its cells, line number and column names, with checked accessors."""

    def __init__(self, cells: list[str], lineno: int, columns: tuple[str, ...], source: str):
        self.cells, self.lineno, self.columns, self.source = cells, lineno, columns, source

    def error(self, col: int, expected: str, got: object = None) -> InputError:
        return InputError(self.source, f"line {self.lineno}, column '{self.columns[col]}'", expected, got)

    def int(self, col: int) -> int:
        if col >= len(self.cells):
            return self._missing(col)
        text = self.cells[col]
        if not _INT.fullmatch(text) or int(text) < 1:
            raise self.error(col, "a positive integer", text)
        return int(text)

    def _missing(self, col: int) -> int:
        raise self.error(col, f"a positive integer (the row ends after column '{self.columns[len(self.cells) - 1]}')")


def _conv_op(row: _Row, name: str, dtype: str) -> Op:
    h, w, fh, fw, c, nf, sh = (row.int(i) for i in range(1, 8))
    sw = row.int(8) if len(row.cells) > 8 else sh
    if fh > h:
        raise row.error(3, f"at most the IFMAP Height ({h})", str(fh))
    if fw > w:
        raise row.error(4, f"at most the IFMAP Width ({w})", str(fw))
    depthwise = "DP" in name
    out_ch, groups = (c * nf, c) if depthwise else (nf, 1)
    x = Tensor(f"{name}.ifmap", (1, c, h, w), dtype, "input")
    wt = Tensor(f"{name}.weight", (out_ch, c // groups, fh, fw), dtype, "weight")
    y = Tensor(f"{name}.ofmap", (1, out_ch, out_len(h, fh, sh, 0), out_len(w, fw, sw, 0)), dtype, "output")
    attrs = {"batch": 1, "in_h": h, "in_w": w, "in_ch": c, "out_ch": out_ch, "kernel_h": fh, "kernel_w": fw,
             "stride_h": sh, "stride_w": sw, "pad_h": 0, "pad_w": 0, "groups": groups}
    return Op(name, OpKind.DEPTHWISE_CONV2D if depthwise else OpKind.CONV2D, (x, wt), (y,), attrs)


def _gemm_op(row: _Row, name: str, dtype: str) -> Op:
    m, n, k = row.int(1), row.int(2), row.int(3)
    a = Tensor(f"{name}.a", (m, k), dtype, "input")
    b = Tensor(f"{name}.weight", (n, k), dtype, "weight")
    y = Tensor(f"{name}.out", (m, n), dtype, "output")
    return Op(name, OpKind.MATMUL, (a, b), (y,), {"batch": 1, "m": m, "n": n, "k": k})


def parse_scalesim_csv(text: str, *, source: str = "<csv>", name: str = "topology", dtype: str = "int8") -> Graph:
    """Parse SCALE-Sim topology CSV ``text``; ``source`` names it in errors."""
    g = Graph(name, source=source, params={"format": "scalesim_csv", "dtype": dtype})
    form: str | None = None
    columns: tuple[str, ...] = ()
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        cells = _cells(line)
        if not cells:
            continue  # blank line or a ",,,," junk line
        if form is None:
            form = _detect_form(cells, source, lineno)
            columns = CONV_COLUMNS if form == "conv" else GEMM_COLUMNS
            continue
        row = _Row(cells, lineno, columns, source)
        if len(cells) > len(columns):
            raise InputError(source, f"line {lineno}", f"at most {len(columns)} columns ({', '.join(columns)})",
                             len(cells))
        layer = cells[0]
        if not layer:
            raise row.error(0, "a layer name")
        if layer in seen:
            raise row.error(0, f"a unique layer name (line {seen[layer]} uses it already)", layer)
        seen[layer] = lineno
        g.add_op(_conv_op(row, layer, dtype) if form == "conv" else _gemm_op(row, layer, dtype))
    if form is None:
        raise InputError(source, "line 1", f"a SCALE-Sim header ('{CONV_HEADER}' or 'Layer, M, N, K,')", "an empty file")
    g.params["form"] = form
    return g


def read_scalesim_csv(path: str | Path, *, dtype: str = "int8", name: str | None = None) -> Graph:
    """Read a SCALE-Sim topology file; the graph is named after the file unless ``name`` is given."""
    p = Path(path)
    text = read_input_text(p)
    return parse_scalesim_csv(text, source=str(path), name=name or p.stem, dtype=dtype)


# -- export -------------------------------------------------------------------------------------
def _row(name: str, *values: int) -> str:
    return ", ".join([name, *(str(v) for v in values)]) + ","


def _check_name(graph: Graph, name: str, depthwise: bool) -> None:
    if "," in name or "\n" in name:
        raise InputError(graph.source or graph.name, f"op {name}", "a name without commas or newlines for CSV", name)
    if not depthwise and "DP" in name:
        raise InputError(graph.source or graph.name, f"op {name}",
                         "a name without 'DP' (SCALE-Sim reads such a layer as depthwise)", name)


def _conv_rows(graph: Graph, op: Op) -> list[str]:
    a = op.params
    h, w = a["in_h"] + 2 * a.get("pad_h", 0), a["in_w"] + 2 * a.get("pad_w", 0)
    sh, sw = a.get("stride_h", 1), a.get("stride_w", 1)
    strides = (sh,) if sh == sw else (sh, sw)
    kh, kw, cin, cout, groups = a["kernel_h"], a["kernel_w"], a["in_ch"], a["out_ch"], a.get("groups", 1)
    batch = a.get("batch", 1)
    bsuffix = [f"_b{i}" for i in range(batch)] if batch > 1 else [""]
    depthwise = op.kind == OpKind.DEPTHWISE_CONV2D
    _check_name(graph, op.name, depthwise)
    rows = []
    for bs in bsuffix:
        if depthwise:
            rows.append(_row(f"{op.name}{bs}_DP", h, w, kh, kw, cin, cout // cin, *strides))
        elif groups > 1:
            rows.extend(_row(f"{op.name}_g{i}{bs}", h, w, kh, kw, cin // groups, cout // groups, *strides)
                        for i in range(groups))
        else:
            rows.append(_row(f"{op.name}{bs}", h, w, kh, kw, cin, cout, *strides))
    return rows


def _gemm_rows(graph: Graph, op: Op) -> list[str]:
    count, m, n, k = op.gemm_dims()
    _check_name(graph, op.name, False)
    names = [op.name] if count == 1 else [f"{op.name}_b{i}" for i in range(count)]
    return [_row(nm, m, 1, 1, 1, k, n, 1) for nm in names]


def export_scalesim_csv(graph: Graph) -> str:
    """The graph's GEMM-kind ops as a SCALE-Sim conv-form topology (non-GEMM ops are skipped).

    Conventions: padding folds into the IFMAP dims (``H + 2*pad_h``); a stride-width column only
    when ``stride_h != stride_w``; depthwise convs as one ``<name>_DP`` row (Channels = in_ch, Num
    Filter = out_ch/in_ch); grouped convs as ``groups`` rows ``<name>_g{i}``; a batch of B as B rows
    ``<name>_b{i}``; a matmul as ``name, m, 1, 1, 1, k, n, 1`` (an ``m x 1`` IFMAP of ``k``
    channels, ``n`` 1x1 filters). Every row ends with a comma.
    """
    lines = [CONV_HEADER]
    for op in graph.ops:
        if op.kind in CONV_KINDS:
            lines.extend(_conv_rows(graph, op))
        elif op.kind in GEMM_KINDS:
            lines.extend(_gemm_rows(graph, op))
    return "\n".join(lines) + "\n"
