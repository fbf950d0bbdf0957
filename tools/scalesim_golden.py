#!/usr/bin/env python3
"""Generate golden reference outputs from the real SCALE-Sim v2 (scalesim==2.0.2).

This driver only *imports* scalesim; it must be run with an interpreter that has
``scalesim==2.0.2`` installed, NOT with archsim's own venv, e.g.::

    python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==2.0.2
    /tmp/scalesim-venv/bin/python tools/scalesim_golden.py --group worked_examples random_cases
    /tmp/scalesim-venv/bin/python tools/scalesim_golden.py --group resnet50_128

For each case it writes a SCALE-Sim ``.cfg`` and topology ``.csv`` into a
temporary directory, runs SCALE-Sim through its Python API in CALC
(estimate-bandwidth) mode, parses COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and
DETAILED_ACCESS_REPORT.csv and stores every column of every layer with its exact
printed value (ints stay ints, floats stay floats).

Output: one JSON file per group in ``--out`` (default tests/golden/scalesim):
``{"group", "scalesim_version", "numpy_version", "python_version", "seed",
"machine", "date", "total_scalesim_wall_s", "cases": [...], "crashes": [...]}``.
Each case: ``{"case", "cfg": {...}, "input_type", "topology", "cfg_text",
"topology_text", "layers": [...], "scalesim_wall_s", "scalesim_version"}``.

Everything is deterministic given ``--seed`` (default 2026) except the wall-clock
times, the date and the machine description.  ``--only NAME`` (repeatable)
re-runs just those cases and merges them into the existing group file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "golden" / "scalesim"
RESNET50_CSV = DEFAULT_OUT / "topologies" / "resnet50.csv"

SCALESIM_VERSION = "2.0.2"
DEFAULT_SEED = 2026
N_RANDOM_SINGLE = 140   # random single-layer cases
N_RANDOM_MULTI = 10     # random 3-layer cases

CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, "
               "Filter Width, Channels, Num Filter, Strides,")
GEMM_HEADER = "Layer, M, N, K,"

ARRAY_DIMS = [1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 32]
SRAM_KB = [1, 2, 4, 8, 16, 64, 512]
DATAFLOWS = ["os", "ws", "is"]


# --------------------------------------------------------------------------
# cfg / topology text
# --------------------------------------------------------------------------
def cfg_text(run_name: str, cfg: dict) -> str:
    return (
        "[general]\n"
        f"run_name = {run_name}\n"
        "\n"
        "[architecture_presets]\n"
        f"ArrayHeight = {cfg['ArrayHeight']}\n"
        f"ArrayWidth = {cfg['ArrayWidth']}\n"
        f"IfmapSramSzkB = {cfg['IfmapSramSzkB']}\n"
        f"FilterSramSzkB = {cfg['FilterSramSzkB']}\n"
        f"OfmapSramSzkB = {cfg['OfmapSramSzkB']}\n"
        "IfmapOffset = 0\n"
        "FilterOffset = 10000000\n"
        "OfmapOffset = 20000000\n"
        "Bandwidth = 10\n"
        f"Dataflow = {cfg['Dataflow']}\n"
        "\n"
        "[run_presets]\n"
        "InterfaceBandwidth = CALC\n"
    )


def topology_text(input_type: str, topology: list) -> str:
    header = GEMM_HEADER if input_type == "gemm" else CONV_HEADER
    lines = [header]
    for row in topology:
        lines.append(", ".join(str(x) for x in row) + ",")
    return "\n".join(lines) + "\n"


def parse_topology_csv(text: str) -> list:
    rows = []
    for i, line in enumerate(text.splitlines()):
        line = line.strip()
        if i == 0 or not line:
            continue
        elems = [e.strip() for e in line.split(",")[:-1]]  # trailing comma
        rows.append([elems[0]] + [int(e) for e in elems[1:]])
    return rows


def mkcfg(rows, cols, ifmap_kb, filter_kb, ofmap_kb, df) -> dict:
    return {"ArrayHeight": int(rows), "ArrayWidth": int(cols),
            "IfmapSramSzkB": int(ifmap_kb), "FilterSramSzkB": int(filter_kb),
            "OfmapSramSzkB": int(ofmap_kb), "Dataflow": df}


def mkcase(name, cfg, input_type, topology) -> dict:
    for row in topology:
        # SCALE-Sim's conv loader expands any layer whose name contains 'DP'
        # into per-channel depthwise layers; keep our names free of it.
        assert "DP" not in row[0], row
    return {"case": name, "cfg": cfg, "input_type": input_type,
            "topology": [list(r) for r in topology]}


# --------------------------------------------------------------------------
# report parsing
# --------------------------------------------------------------------------
_INT_RE = re.compile(r"^[+-]?\d+$")


def parse_value(s: str):
    s = s.strip()
    if _INT_RE.match(s):
        return int(s)
    v = float(s)  # raises on anything unexpected
    return v


def parse_report(path: Path) -> list[dict]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    assert header[-1] == "", f"{path}: header without trailing comma"
    header = header[:-1]
    out = []
    for line in lines[1:]:
        vals = line.split(",")
        assert vals[-1].strip() == "", f"{path}: row without trailing comma"
        vals = vals[:-1]
        assert len(vals) == len(header), (path, line)
        out.append({h: parse_value(v) for h, v in zip(header, vals)})
    return out


def merge_reports(run_dir: Path) -> list[dict]:
    comp = parse_report(run_dir / "COMPUTE_REPORT.csv")
    bw = parse_report(run_dir / "BANDWIDTH_REPORT.csv")
    det = parse_report(run_dir / "DETAILED_ACCESS_REPORT.csv")
    assert len(comp) == len(bw) == len(det)
    layers = []
    for c, b, d in zip(comp, bw, det):
        assert c["LayerID"] == b["LayerID"] == d["LayerID"]
        row = dict(c)
        for src in (b, d):
            for k, v in src.items():
                if k == "LayerID":
                    continue
                assert k not in row, k
                row[k] = v
        layers.append(row)
    return layers


# --------------------------------------------------------------------------
# running SCALE-Sim
# --------------------------------------------------------------------------
def run_case(case: dict) -> dict:
    """Run one case through SCALE-Sim; returns the completed case dict.

    Raises whatever SCALE-Sim raises.
    """
    from scalesim.scale_sim import scalesim  # imported lazily

    name = case["case"]
    ctext = cfg_text(name, case["cfg"])
    ttext = topology_text(case["input_type"], case["topology"])
    with tempfile.TemporaryDirectory(prefix="scalesim_golden_") as tmp:
        tmp = Path(tmp)
        cfg_path = tmp / f"{name}.cfg"
        csv_path = tmp / f"{name}.csv"
        cfg_path.write_text(ctext)
        csv_path.write_text(ttext)
        top = tmp / "out"
        top.mkdir()
        s = scalesim(save_disk_space=True, verbose=False, config=str(cfg_path),
                     topology=str(csv_path),
                     input_type_gemm=(case["input_type"] == "gemm"))
        # SCALE-Sim prints nothing with verbose=False, but be safe.
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            s.run_scale(top_path=str(top))
            wall = time.perf_counter() - t0
        layers = merge_reports(top / name)
    n_expected = len(case["topology"])
    assert len(layers) == n_expected, (name, len(layers), n_expected)
    out = dict(case)
    out["cfg_text"] = ctext
    out["topology_text"] = ttext
    out["layers"] = layers
    out["scalesim_wall_s"] = round(wall, 4)
    out["scalesim_version"] = SCALESIM_VERSION
    return out


def last_tb_line(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # last line is "ExcType: message"
    return "".join(lines).strip().splitlines()[-1]


def where_tb(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return ""
    fr = tb[-1]
    fn = fr.filename
    i = fn.find("scalesim/")
    if i >= 0:
        fn = fn[i:]
    return f"{fn}:{fr.lineno} in {fr.name}"


# --------------------------------------------------------------------------
# case groups
# --------------------------------------------------------------------------
def worked_examples_cases() -> list[dict]:
    cases = []
    for df in DATAFLOWS:
        cases.append(mkcase(f"inc5b_3x3_32x32_{df}", mkcfg(32, 32, 64, 64, 64, df), "conv",
                            [["Inc5b_3x3", 7, 7, 3, 3, 192, 384, 1]]))
    for df in DATAFLOWS:
        cases.append(mkcase(f"gemm_128x64x256_8x8_{df}", mkcfg(8, 8, 64, 64, 64, df), "gemm",
                            [["gemm0", 128, 64, 256]]))
    cases.append(mkcase("alexnet_conv1_32x32_ws", mkcfg(32, 32, 64, 64, 64, "ws"), "conv",
                        [["Conv1", 224, 224, 11, 11, 3, 96, 4]]))
    return cases


# Documented values the worked examples must reproduce: (case, layer, column) -> value
WORKED_EXPECTED = [
    ("inc5b_3x3_32x32_os", 0, "Total Cycles", 21479),
    ("inc5b_3x3_32x32_ws", 0, "Total Cycles", 77111),
    ("inc5b_3x3_32x32_is", 0, "Total Cycles", 25811),
    ("inc5b_3x3_32x32_os", 0, "DRAM IFMAP Reads", 9408),
    ("inc5b_3x3_32x32_os", 0, "DRAM IFMAP Start Cycle", -983),
    ("gemm_128x64x256_8x8_is", 0, "Total Cycles", 44031),
    ("alexnet_conv1_32x32_ws", 0, "Total Cycles", 112283),
]


def ofmap_dims(h, w, fh, fw, sh, sw):
    # SCALE-Sim topology_utils: ceil((H - F + S) / S)
    return math.ceil((h - fh + sh) / sh), math.ceil((w - fw + sw) / sw)


def est_cost(case: dict) -> float:
    """Rough, deterministic estimate of SCALE-Sim runtime (arbitrary units ~ seconds).

    SCALE-Sim's run time is dominated by per-element Python loops over the
    demand matrices (rows ~ total cycles, width ~ array rows/cols) and over the
    operand matrices.
    """
    R, C = case["cfg"]["ArrayHeight"], case["cfg"]["ArrayWidth"]
    df = case["cfg"]["Dataflow"]
    total = 0.0
    for row in case["topology"]:
        if case["input_type"] == "gemm":
            _, m, n, k = row
            sr, sc, t = m, n, k                      # ofmap px, filters, window
        else:
            _, h, w, fh, fw, ch, nf, sh, *rest = row
            sw = rest[0] if rest else sh
            oh, ow = ofmap_dims(h, w, fh, fw, sh, sw)
            sr, sc, t = oh * ow, nf, fh * fw * ch
        if df == "os":
            folds = math.ceil(sr / R) * math.ceil(sc / C)
            L = t + 2 * R + C            # approx per-fold length
        elif df == "ws":
            folds = math.ceil(t / R) * math.ceil(sc / C)
            L = sr + 2 * R + C
        else:
            folds = math.ceil(t / R) * math.ceil(sr / C)
            L = sc + 2 * R + C
        cycles = folds * L
        total += (60e-6 * cycles + 0.25e-6 * cycles * (R + 2 * C)
                  + 1.0e-6 * (sr * t + t * sc + sr * sc))
    return total


def _draw_conv_layer(rng, name):
    hmax = 40
    h = int(rng.integers(1, hmax + 1))
    w = h if rng.random() < 0.5 else int(rng.integers(1, hmax + 1))
    fh = int(rng.integers(1, min(7, h) + 1))
    if fh <= w and rng.random() < 0.6:
        fw = fh
    else:
        fw = int(rng.integers(1, min(7, w) + 1))
    ch = int(rng.integers(1, 65))
    nf = int(rng.integers(1, 97))
    sh = int(rng.integers(1, 5))
    row = [name, h, w, fh, fw, ch, nf, sh]
    if rng.random() < 0.25:
        row.append(int(rng.integers(1, 5)))  # separate stride width (9th column)
    return row


def _draw_gemm_layer(rng, name):
    return [name, int(rng.integers(1, 301)), int(rng.integers(1, 301)), int(rng.integers(1, 301))]


def _draw_cfg(rng):
    rows = int(rng.choice(ARRAY_DIMS))
    cols = int(rng.choice(ARRAY_DIMS))
    kb = [int(x) for x in rng.choice(SRAM_KB, size=3)]
    df = DATAFLOWS[int(rng.integers(0, 3))]
    return mkcfg(rows, cols, kb[0], kb[1], kb[2], df)


def random_candidate_stream(seed: int, budget: float = 3.0):
    """Yield an infinite deterministic stream of random cases.

    Candidates whose estimated cost exceeds ``budget`` are re-drawn (the
    rejection is deterministic: it depends only on the rng stream).
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    idx = 0
    while True:
        multi = False
        # layout: first N_RANDOM_SINGLE single-layer, then N_RANDOM_MULTI 3-layer, then spares
        if N_RANDOM_SINGLE <= idx < N_RANDOM_SINGLE + N_RANDOM_MULTI:
            multi = True
        # input type and dataflow are fixed per case before the size rejection
        # loop so that their distribution is not biased by the cost budget
        itype = "gemm" if rng.random() < 1 / 3 else "conv"
        df = DATAFLOWS[int(rng.integers(0, 3))]
        for _attempt in range(10000):
            cfg = _draw_cfg(rng)
            cfg["Dataflow"] = df
            nl = 3 if multi else 1
            topo = []
            for li in range(nl):
                lname = f"L{li}"
                topo.append(_draw_gemm_layer(rng, lname) if itype == "gemm"
                            else _draw_conv_layer(rng, lname))
            name = f"rand_{idx:03d}_{itype}_{cfg['Dataflow']}" + ("_3L" if multi else "")
            c = mkcase(name, cfg, itype, topo)
            if est_cost(c) <= (budget * 2.5 if multi else budget):
                break
        yield c
        idx += 1


def special_random_cases(seed: int) -> list[dict]:
    """Hand-picked edge cases (stride > filter, odd (H-F) with stride 2)."""
    import numpy as np
    rng = np.random.default_rng(seed + 1)
    layers = [
        # stride larger than the filter
        ["L0", 9, 9, 1, 1, 8, 16, 2],
        ["L0", 12, 10, 1, 1, 5, 7, 3],
        ["L0", 15, 15, 3, 3, 4, 12, 4],
        ["L0", 20, 17, 2, 3, 3, 9, 4, 3],
        ["L0", 11, 14, 1, 2, 6, 10, 2, 4],
        # (H - F) odd with stride 2 -> windows run past the input edge
        ["L0", 8, 8, 3, 3, 4, 8, 2],
        ["L0", 10, 10, 1, 1, 16, 32, 2],
        ["L0", 14, 9, 5, 2, 3, 6, 2],
        ["L0", 7, 12, 2, 5, 7, 5, 2, 2],
        ["L0", 16, 16, 7, 7, 3, 16, 2],
        ["L0", 6, 6, 3, 3, 2, 3, 2],
        ["L0", 13, 13, 4, 4, 5, 9, 2, 3],
    ]
    cases = []
    for i, layer in enumerate(layers):
        cfg = _draw_cfg(rng)
        cases.append(mkcase(f"edge_{i:02d}_conv_{cfg['Dataflow']}", cfg, "conv", [layer]))
    return cases


def resnet50_cases() -> list[dict]:
    topo = parse_topology_csv(RESNET50_CSV.read_text())
    return [mkcase(f"resnet50_128x128_{df}", mkcfg(128, 128, 6144, 6144, 2048, df), "conv", topo)
            for df in DATAFLOWS]


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------
def machine_info() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu or platform.processor(),
            "platform": platform.platform(), "python": sys.version.split()[0]}


def header(group: str, seed) -> dict:
    import numpy
    import scalesim  # noqa: F401
    try:
        from importlib.metadata import version
        ssv = version("scalesim")
    except Exception:  # pragma: no cover
        ssv = "?"
    assert ssv == SCALESIM_VERSION, f"need scalesim=={SCALESIM_VERSION}, have {ssv}"
    return {"group": group, "scalesim_version": ssv, "numpy_version": numpy.__version__,
            "python_version": sys.version.split()[0], "seed": seed,
            "machine": machine_info(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write_group(out_dir: Path, group: str, doc: dict):
    out_dir.mkdir(parents=True, exist_ok=True)
    doc["total_scalesim_wall_s"] = round(sum(c["scalesim_wall_s"] for c in doc["cases"]), 3)
    path = out_dir / f"{group}.json"
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    log(f"wrote {path} ({len(doc['cases'])} cases, {len(doc.get('crashes', []))} crashes)")


def load_existing(out_dir: Path, group: str):
    p = out_dir / f"{group}.json"
    if p.exists():
        return json.loads(p.read_text())
    return None


def _partial_doc(existing_doc, hdr, only):
    """Document to merge an --only re-run into (keeps the original header)."""
    if existing_doc is None:
        return dict(hdr, cases=[], crashes=[])
    doc = existing_doc
    doc.setdefault("partial_reruns", []).append(
        {"date": hdr["date"], "machine": hdr["machine"], "numpy_version": hdr["numpy_version"],
         "cases": sorted(only)})
    return doc


def run_list(cases, only, existing_doc, hdr, out_dir, group, incremental=False):
    """Run fixed case lists (worked_examples, resnet50_128)."""
    if only:
        doc = _partial_doc(existing_doc, hdr, only & {c["case"] for c in cases})
        byname = {c["case"]: i for i, c in enumerate(doc["cases"])}
    else:
        doc = dict(hdr, cases=[], crashes=[])
        byname = {}
    for c in cases:
        if only and c["case"] not in only:
            continue
        log(f"[{group}] running {c['case']} ...")
        res = run_case(c)
        log(f"[{group}]   {c['case']}: {res['scalesim_wall_s']:.2f} s, "
            f"total cycles {[lay['Total Cycles'] for lay in res['layers']][:6]}")
        if c["case"] in byname:
            doc["cases"][byname[c["case"]]] = res
        else:
            byname[c["case"]] = len(doc["cases"])
            doc["cases"].append(res)
        if incremental:
            write_group(out_dir, group, doc)
    # keep the canonical order
    order = {c["case"]: i for i, c in enumerate(cases)}
    doc["cases"].sort(key=lambda c: order.get(c["case"], 1 << 30))
    return doc


def check_worked(doc) -> list[str]:
    msgs = []
    by = {c["case"]: c for c in doc["cases"]}
    for case, lid, col, exp in WORKED_EXPECTED:
        if case not in by:
            continue
        got = by[case]["layers"][lid][col]
        status = "OK" if got == exp else "MISMATCH"
        note = ""
        if got == exp and type(got) is not type(exp):
            note = f" (equal value; SCALE-Sim prints it as {type(got).__name__} {got!r})"
        msgs.append(f"{status}: {case} layer {lid} {col!r}: documented {exp}, SCALE-Sim {got}{note}")
    return msgs


def run_random(seed, only, existing_doc, hdr, out_dir):
    group = "random_cases"
    n_target = N_RANDOM_SINGLE + N_RANDOM_MULTI
    specials = special_random_cases(seed)
    if only:
        doc = _partial_doc(existing_doc, hdr, only & {c["case"] for c in all_case_defs(group, seed)})
        byname = {c["case"]: i for i, c in enumerate(doc["cases"])}
        # candidate names are deterministic; search the stream far enough
        for c in all_case_defs(group, seed):
            if c["case"] not in only:
                continue
            log(f"[{group}] running {c['case']} ...")
            try:
                res = run_case(c)
            except Exception as e:  # noqa: BLE001
                log(f"[{group}]   CRASH {c['case']}: {last_tb_line(e)}")
                continue
            if c["case"] in byname:
                doc["cases"][byname[c["case"]]] = res
            else:
                doc["cases"].append(res)
        return doc

    doc = dict(hdr, cases=[], crashes=[])
    stream = random_candidate_stream(seed)
    ok_random = 0
    todo = list(specials)
    while True:
        if todo:
            c = todo.pop(0)
            is_special = True
        else:
            if ok_random >= n_target:
                break
            c = next(stream)
            is_special = False
        try:
            res = run_case(c)
        except Exception as e:  # noqa: BLE001
            entry = dict(c)
            entry["error"] = last_tb_line(e)
            entry["where"] = where_tb(e)
            entry["cfg_text"] = cfg_text(c["case"], c["cfg"])
            entry["topology_text"] = topology_text(c["input_type"], c["topology"])
            doc["crashes"].append(entry)
            log(f"[{group}] CRASH {c['case']}: {entry['error']} @ {entry['where']}")
            continue
        doc["cases"].append(res)
        if not is_special:
            ok_random += 1
        log(f"[{group}] {len(doc['cases']):3d} {c['case']}: {res['scalesim_wall_s']:.2f} s "
            f"cfg={c['cfg']} topo={c['topology']}")
    return doc


GROUPS = ["worked_examples", "random_cases", "resnet50_128"]


def all_case_defs(group, seed, n_spare=200):
    """Case definitions of a group (for random_cases: specials + candidate stream incl. spares)."""
    if group == "worked_examples":
        return worked_examples_cases()
    if group == "resnet50_128":
        return resnet50_cases()
    st = random_candidate_stream(seed)
    return special_random_cases(seed) + [next(st) for _ in range(N_RANDOM_SINGLE + N_RANDOM_MULTI + n_spare)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--group", nargs="+", default=["worked_examples", "random_cases"],
                    choices=GROUPS, help="case groups to (re)generate")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--only", action="append", default=[],
                    help="re-run only this case (repeatable); merges into the existing file")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--list", action="store_true", help="list case names and exit")
    args = ap.parse_args(argv)
    only = set(args.only)

    if args.list:
        for g in args.group:
            for c in all_case_defs(g, args.seed):
                print(g, c["case"], c["cfg"], c["topology"][:1], f"est={est_cost(c):.2f}")
        return 0

    if only:
        known = set()
        for g in args.group:
            known |= {c["case"] for c in all_case_defs(g, args.seed)}
        unknown = sorted(only - known)
        if unknown:
            ap.error(f"unknown case name(s) for groups {args.group}: {unknown} (see --list)")

    for g in args.group:
        hdr = header(g, args.seed if g == "random_cases" else None)
        existing = load_existing(args.out, g) if only else None
        if g == "worked_examples":
            doc = run_list(worked_examples_cases(), only, existing, hdr, args.out, g)
            for m in check_worked(doc):
                log(m)
            doc["documented_value_checks"] = check_worked(doc)
        elif g == "resnet50_128":
            doc = run_list(resnet50_cases(), only, existing, hdr, args.out, g, incremental=True)
            doc["per_dataflow_wall_s"] = {c["cfg"]["Dataflow"]: c["scalesim_wall_s"] for c in doc["cases"]}
        else:
            doc = run_random(args.seed, only, existing, hdr, args.out)
        write_group(args.out, g, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
