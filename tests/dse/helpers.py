"""Helpers for the DSE tests: tiny workload graphs and sweep specs."""

from __future__ import annotations

from pathlib import Path

import yaml


def gemm_graph(batch: int = 1, m: int = 8, n: int = 4, k: int = 16, dtype: str = "int8") -> dict:
    """A graph JSON with one (batched) matmul ``C[m x n] = A[m x k] W[k x n]``."""
    lead = [batch] if batch > 1 else []
    return {
        "schema_version": 1, "name": f"gemm{batch}x{m}x{n}x{k}",
        "tensors": [{"name": "x", "shape": [*lead, m, k], "dtype": dtype, "role": "input"},
                    {"name": "w", "shape": [*lead, k, n], "dtype": dtype, "role": "weight"},
                    {"name": "y", "shape": [*lead, m, n], "dtype": dtype, "role": "output"}],
        "ops": [{"name": "mm", "kind": "matmul", "inputs": ["x", "w"], "outputs": ["y"],
                 "attrs": {"batch": batch, "m": m, "n": n, "k": k}}],
    }


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


#: a 4x4 output-stationary array with large SRAMs and no DRAM latency (hand-derivable cycles)
SMALL_ARCH = {"kind": "systolic", "systolic": {
    "name": "hand-4x4", "rows": 4, "cols": 4, "dataflow": "os", "clock_hz": 1_000_000_000, "acc_bytes": 4,
    "ifmap_sram_bytes": 65536, "filter_sram_bytes": 65536, "ofmap_sram_bytes": 65536,
    "dram_bytes_per_cycle": 16, "dram_latency_cycles": 0, "vector_lanes": 4}}
