"""The model zoo: find a workload by name or path and build its :class:`Graph`.

A name is looked up as ``<name>.json``, ``<name>.csv`` or ``<name>.onnx`` in each directory of
``$ARCHSIM_MODELS`` (``os.pathsep``-separated), then in the repository's ``models/``. A ``.json``
is one of:

* a HuggingFace ``config.json`` (``model_type`` or GPT-2/OPT/Llama keys) -> :func:`decoder_llm`;
  phase defaults to ``"decode"`` and seq_len to 128, recorded in ``graph.params["defaults_applied"]``;
* an archsim model card ``{"archsim_model": "resnet" | "mobilenet_v1", <builder arguments>}``
  (keys starting with ``_`` are comments);
* an archsim graph (:meth:`Graph.to_dict` format, has ``"ops"``), or a plain graph (ops with
  ``output_bytes`` and ``edges``; :mod:`archsim.workload.importers.plain_graph`).

``.csv`` files are SCALE-Sim topologies; ``.onnx`` files need the ``onnx`` extra.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import archsim
from archsim.errors import InputError
from archsim.workload.builders.cnn import mobilenet_v1, resnet
from archsim.workload.builders.llm_config import looks_like_hf_config
from archsim.workload.graph import Graph
from archsim.workload.importers.hf_config import import_hf_config
from archsim.workload.importers.json_file import read_json
from archsim.workload.importers.plain_graph import is_plain_graph, plain_graph
from archsim.workload.importers.scalesim_csv import read_scalesim_csv

MODEL_SUFFIXES = (".json", ".csv", ".onnx")
#: ``archsim_model`` values of model cards -> builder
CARD_BUILDERS: dict[str, Callable[..., Graph]] = {"resnet": resnet, "mobilenet_v1": mobilenet_v1}
DEFAULT_PHASE = "decode"
DEFAULT_SEQ_LEN = 128


def model_dirs() -> list[Path]:
    """Directories searched for model names, in order."""
    env = os.environ.get("ARCHSIM_MODELS", "")
    dirs = [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(Path(archsim.__file__).resolve().parents[1] / "models")
    return dirs


def list_models() -> list[str]:
    """Names of the models in :func:`model_dirs` (sorted, without suffix)."""
    names = set()
    for d in model_dirs():
        if d.is_dir():
            names.update(f.stem for f in d.iterdir() if f.suffix in MODEL_SUFFIXES and f.is_file())
    return sorted(names)


def find_model(spec: str | Path) -> Path:
    """The file for ``spec``: an existing file path, else a model name looked up in :func:`model_dirs`."""
    p = Path(spec)
    if p.is_file():
        return p
    for d in model_dirs():
        for suffix in MODEL_SUFFIXES:
            candidate = d / f"{spec}{suffix}"
            if candidate.is_file():
                return candidate
    raise InputError(
        os.pathsep.join(str(d) for d in model_dirs()), "model",
        f"a model name ({', '.join(list_models())}) or a path to a .json/.csv/.onnx file", str(spec),
    )


def _reject(fixed: str, **given: Any) -> None:
    """Error for arguments that do not apply to a workload of fixed shape ``fixed``."""
    for field, value in given.items():
        if value is not None:
            raise InputError(None, field, f"no value for {fixed}", value)


def _from_card(path: Path, card: Mapping[str, Any], batch: int, seq_len: Any, phase: Any, dtype: Any,
               kw: dict[str, Any]) -> Graph:
    kind = card["archsim_model"]
    if kind not in CARD_BUILDERS:
        raise InputError(path, "archsim_model", f"one of {sorted(CARD_BUILDERS)}", kind)
    builder = CARD_BUILDERS[kind]
    allowed = set(inspect.signature(builder).parameters)
    args = {k: v for k, v in card.items() if k != "archsim_model" and not k.startswith("_")}
    for k in [*args, *kw]:
        if k not in allowed:
            raise InputError(path, k, f"an argument of {kind} ({', '.join(sorted(allowed))})")
    _reject(f"a CNN ({path.stem})", seq_len=seq_len, phase=phase)
    args.update(kw, batch=batch)
    if dtype is not None:
        args["dtype"] = dtype
    try:
        g = builder(**args)
    except InputError as e:
        if e.source is not None:
            raise
        raise InputError(path, e.field, e.expected, e.got) from None
    g.name = path.stem
    g.source = str(path)
    return g


def load_workload(
    spec: str | Path,
    *,
    batch: int = 1,
    seq_len: int | None = None,
    phase: str | None = None,
    dtype: str | None = None,
    **kw: Any,
) -> Graph:
    """Build the workload ``spec`` (a model name or a file path); ``kw`` goes to the builder or
    importer (e.g. ``routing``, ``logits`` for LLMs, ``width_mult`` for MobileNetV1)."""
    path = find_model(spec)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _reject(f"a SCALE-Sim topology ({path.name})", seq_len=seq_len, phase=phase)
        if batch != 1:
            raise InputError(None, "batch", f"1 for a SCALE-Sim topology ({path.name}; it has no batch)", batch)
        return read_scalesim_csv(path, dtype=dtype or "int8", **kw)
    if suffix == ".onnx":
        from archsim.workload.importers.onnx_import import import_onnx

        _reject(f"an ONNX model ({path.name})", seq_len=seq_len, phase=phase)
        return import_onnx(path, batch=batch, dtype=dtype, **kw)

    data = read_json(path)
    if not isinstance(data, Mapping):
        raise InputError(path, None, "a JSON object (HF config, archsim model card or graph)", type(data).__name__)
    if "archsim_model" in data:
        return _from_card(path, data, batch, seq_len, phase, dtype, kw)
    if "ops" in data:
        _reject(f"a graph JSON ({path.name}; its shapes are fixed)", seq_len=seq_len, phase=phase, dtype=dtype)
        if batch != 1 or kw:
            raise InputError(None, "batch" if batch != 1 else next(iter(kw)),
                             f"no value for a graph JSON ({path.name}; its shapes are fixed)",
                             batch if batch != 1 else kw[next(iter(kw))])
        if is_plain_graph(data):
            return plain_graph(data, source=str(path))
        return Graph.from_dict(data, source=str(path))
    if looks_like_hf_config(data):
        defaults = []
        if phase is None:
            phase = DEFAULT_PHASE
            defaults.append(f"phase={DEFAULT_PHASE}")
        if seq_len is None:
            seq_len = DEFAULT_SEQ_LEN
            defaults.append(f"seq_len={DEFAULT_SEQ_LEN}")
        g = import_hf_config(path, phase=phase, batch=batch, seq_len=seq_len, dtype=dtype, **kw)
        g.params["defaults_applied"] = defaults
        return g
    raise InputError(
        path, None, "a HuggingFace config (model_type), an archsim model card (archsim_model) or a graph (ops)",
        sorted(data)[:5],
    )
