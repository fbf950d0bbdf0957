"""Workloads of a sweep: references that hash by content, the parameters each accepts, and a
per-process cache of built graphs (workers build each workload once, not once per point)."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.workload.graph import Graph

#: parameters every loader takes (see archsim.workload.load_workload)
COMMON_PARAMS = ("batch", "seq_len", "phase", "dtype")


@cache
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_sha256(path: str | Path) -> str:
    p = Path(path)
    st = p.stat()
    return _file_sha256(str(p), st.st_mtime_ns, st.st_size)


def accepted_params(path: str | Path) -> tuple[str, ...]:
    """The parameter names ``load_workload(path, **params)`` accepts for this file (sorted)."""
    from archsim.workload.builders.llm import decoder_llm
    from archsim.workload.builders.llm_config import looks_like_hf_config
    from archsim.workload.importers.json_file import read_json
    from archsim.workload.zoo import CARD_BUILDERS

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return ("dtype",)
    if suffix == ".onnx":
        return ("batch", "dtype")
    data = read_json(p)
    if not isinstance(data, dict):
        return ()
    if "archsim_model" in data:
        builder = CARD_BUILDERS.get(data["archsim_model"])
        names = set(inspect.signature(builder).parameters) if builder else set()
        return tuple(sorted(names | {"batch", "dtype"}))
    if "ops" in data:
        return ()
    if looks_like_hf_config(data):
        names = set(inspect.signature(decoder_llm).parameters) - {"config", "name", "source"}
        return tuple(sorted(names | set(COMMON_PARAMS)))
    return ()


@dataclass(frozen=True)
class WorkloadRef:
    """A workload of a sweep: a model file (found by name or path), its content hash and the
    parameters it is built with. Equal refs build equal graphs."""

    name: str
    path: str
    sha256: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def resolve(cls, ref: str, params: dict[str, Any] | None = None, base_dir: Path | None = None) -> WorkloadRef:
        """``ref`` is a model name (``archsim models``) or a file path (relative paths are tried
        against ``base_dir`` first)."""
        from archsim.workload.zoo import find_model

        candidate = Path(ref)
        if base_dir is not None and not candidate.is_absolute() and (base_dir / candidate).is_file():
            candidate = base_dir / candidate
        path = find_model(str(candidate) if candidate.is_file() else ref).resolve()
        name = Path(ref).stem if candidate.is_file() else str(ref)
        return cls(name, str(path), file_sha256(path), tuple(sorted((params or {}).items())))

    def with_params(self, **params: Any) -> WorkloadRef:
        merged = dict(self.params)
        merged.update({k: v for k, v in params.items() if v is not None})
        return WorkloadRef(self.name, self.path, self.sha256, tuple(sorted(merged.items())))

    @property
    def accepted(self) -> tuple[str, ...]:
        return accepted_params(self.path)

    def key_dict(self) -> dict[str, Any]:
        """What identifies the workload in a point's key (not its path: moving files is fine)."""
        return {"name": self.name, "sha256": self.sha256, "params": dict(self.params)}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "sha256": self.sha256, "params": dict(self.params)}

    def build(self) -> Graph:
        from archsim.workload import load_workload

        return load_workload(self.path, **dict(self.params))


class WorkloadHandle:
    """A built workload in a worker: ``graph`` and a place for models to cache derived forms
    (``cached(key, factory)``, e.g. the lowered GEMM jobs of a convention)."""

    def __init__(self, ref: WorkloadRef):
        self.ref = ref
        self.graph = ref.build()
        self._derived: dict[Any, Any] = {}

    def cached(self, key: Any, factory: Callable[[Graph], Any]) -> Any:
        if key not in self._derived:
            self._derived[key] = factory(self.graph)
        return self._derived[key]


_HANDLES: OrderedDict[WorkloadRef, WorkloadHandle] = OrderedDict()
#: built workloads kept per process (least recently used dropped first)
MAX_CACHED_WORKLOADS = 32


def workload_handle(ref: WorkloadRef) -> WorkloadHandle:
    """The process-wide cached handle of ``ref`` (built on first use)."""
    h = _HANDLES.get(ref)
    if h is None:
        h = _HANDLES[ref] = WorkloadHandle(ref)
        while len(_HANDLES) > MAX_CACHED_WORKLOADS:
            _HANDLES.popitem(last=False)
    else:
        _HANDLES.move_to_end(ref)
    return h


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, shortest float form: the text that point keys hash."""
    from archsim.report.json_report import to_jsonable

    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def check_params(ref: WorkloadRef, source: str | None, field: str) -> None:
    """One InputError naming ``field`` when ``ref`` is given a parameter its file does not take."""
    accepted = ref.accepted
    for k, _ in ref.params:
        if k not in accepted:
            raise InputError(source, f"{field}.{k}", f"a parameter of {ref.name} ({', '.join(accepted) or 'none'})", k)
