"""Running a sweep into a directory, resumably.

``run_sweep(spec, out_dir)`` expands the spec, skips every point whose key is already in
``out_dir/results.sqlite``, runs the rest in chunks on an executor, stores each finished chunk in
one transaction and finally exports the sweep's rows. A killed sweep run again with the same
spec and directory resumes where it stopped: nothing stored is lost or run twice.

``out_dir`` holds:

* ``sweep.json``: the resolved sweep (base spec, workloads with content hashes, axes, level,
  seed, area model), its id, point count, archsim and schema versions;
* ``results.sqlite``: the store (:mod:`archsim.dse.store`);
* ``results.csv`` (and ``results.parquet`` with ``parquet=True``): the rows in point order
  (:mod:`archsim.dse.export`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim import SCHEMA_VERSION, __version__
from archsim.dse.executors import make_executor
from archsim.dse.export import write_csv, write_parquet
from archsim.dse.progress import Progress
from archsim.dse.spec import DSE_SCHEMA_VERSION, DesignPoint, SweepSpec, load_sweep
from archsim.dse.store import STORE_NAME, Store
from archsim.errors import InputError
from archsim.report.atomic import atomic_write_text

SWEEP_JSON = "sweep.json"
MAX_CHUNK = 64


@dataclass
class SweepRun:
    """What :func:`run_sweep` did: point counts, timing and the files written."""

    spec: SweepSpec
    out_dir: Path
    sweep_id: str
    points: int
    stored_before: int
    ran: int
    ok: int
    errors: int
    wall_s: float
    executor: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def points_per_min(self) -> float:
        """Points evaluated per minute of wall time (0 when nothing ran)."""
        return 60 * self.ran / self.wall_s if self.ran and self.wall_s > 0 else 0.0


def default_chunk_size(pending: int, workers: int) -> int:
    """About eight chunks per worker (load balance, little lost work on a kill), at most 64."""
    return max(1, min(MAX_CHUNK, math.ceil(pending / (8 * max(1, workers)))))


def sweep_document(spec: SweepSpec, points: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "dse_schema_version": DSE_SCHEMA_VERSION,
        "archsim_version": __version__,
        "sweep_id": spec.sweep_id,
        "points": points,
        "store": STORE_NAME,
        "sweep": spec.to_dict(),
    }


def run_sweep(spec: SweepSpec | str | Path, out_dir: str | Path, *, executor: str = "local",
              workers: int | None = None, scheduler: str | None = None, chunk_size: int | None = None,
              retry_errors: bool = False, progress: bool | None = None, parquet: bool = False) -> SweepRun:
    """Run (or resume) ``spec`` (a SweepSpec or a sweep YAML path) into ``out_dir``.

    ``executor`` is ``local`` (a process pool of ``workers``) or ``dask`` (``scheduler`` address
    or a LocalCluster of ``workers``). ``retry_errors`` runs stored error points again.
    ``progress``: see :mod:`archsim.dse.progress`. ``parquet`` adds ``results.parquet``.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, None, "a directory for the sweep's results", "a file")
    if chunk_size is not None and chunk_size < 1:
        raise InputError("--chunk-size", None, "a positive number of points per chunk", chunk_size)
    runner = make_executor(executor, workers=workers, scheduler=scheduler)
    if parquet:
        from archsim.report.tables import require_parquet

        require_parquet(out / "results.parquet")
    points = spec.points()
    out.mkdir(parents=True, exist_ok=True)
    doc = sweep_document(spec, len(points))
    files = {SWEEP_JSON: atomic_write_text(out / SWEEP_JSON, json.dumps(doc, indent=1) + "\n")}
    with Store(out / STORE_NAME) as store:
        files[STORE_NAME] = store.path
        store.register_sweep(spec.sweep_id, spec.name, doc["sweep"], points)
        stored = store.statuses()
        redo = ("error",) if retry_errors else ()
        pending: list[DesignPoint] = [p for p in points if p.key not in stored or stored[p.key] in redo]
        inputs = {p.key: p.inputs_json for p in pending}
        work = [dataclasses.replace(p, inputs_json="") for p in pending]  # workers need no key text
        size = chunk_size or default_chunk_size(len(work), runner.workers)
        chunks = [work[i: i + size] for i in range(0, len(work), size)]
        bar = Progress(len(pending), progress, desc=spec.name)
        errors = 0
        try:
            if chunks:
                for _, records in runner.run(chunks):
                    store.put(records, inputs)
                    errors += sum(r["status"] != "ok" for r in records)
                    bar.update(len(records), errors)
        finally:
            bar.close()
        wall = bar.elapsed_s
        rows = store.rows(spec.sweep_id)
        counts = store.counts(spec.sweep_id)
    files["results.csv"] = write_csv(rows, spec.axis_names, out / "results.csv")
    if parquet:
        files["results.parquet"] = write_parquet(rows, spec.axis_names, doc, out / "results.parquet")
    return SweepRun(spec, out, spec.sweep_id, len(points), len(points) - len(pending), len(pending),
                    counts["ok"], counts["error"], wall, runner.describe(), rows, files)


def open_sweep(out_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(sweep.json document, rows in point order)`` of the sweep last run into ``out_dir``."""
    out = Path(out_dir)
    doc_path = out / SWEEP_JSON
    if not doc_path.is_file() or not (out / STORE_NAME).is_file():
        raise InputError(out, None, f"a sweep directory written by archsim sweep ({SWEEP_JSON} and {STORE_NAME})")
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        sweep_id = doc["sweep_id"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(doc_path, None, "a sweep.json written by archsim sweep", str(e)) from None
    with Store(out / STORE_NAME) as store:
        rows = store.rows(sweep_id)
    return doc, rows
