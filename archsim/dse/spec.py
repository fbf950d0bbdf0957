"""Sweep specs: a base architecture, workloads, axes and a fidelity level, expanded into points.

A sweep YAML::

    version: 1
    name: resnet50-array-size          # optional (default: the file name)
    arch: tpu-like-128                 # preset, spec .yaml/.cfg (relative to this file) or inline
    workloads: [resnet50, {model: gpt2, phase: decode, seq_len: 512}]
    level: analytic                    # analytic (default) | event | cycle
    seed: 0
    axes:
      rows: [32, 64, 128]
      dataflow: [os, ws]
      ifmap_sram_bytes: {from: 262144, to: 4194304, times: 2}
      batch: [1, 8]
    area: {pe_mm2: 1.2e-3, sram_mm2_per_byte: 3.8e-6}   # optional, see archsim.dse.area

Axis names resolve against whatever the base architecture loads to, so new architecture kinds
plug in without changes here:

* ``arch.<field>`` or a bare field name of the base spec dataclass (``a.b`` for a field of a
  nested dataclass field);
* ``run.<name>`` or bare ``level``, ``seed`` and the kind's run options (``ArchPlugin.options``);
* ``workload.<param>`` or a bare parameter some workload's loader takes (``batch``, ``seq_len``,
  ``phase``, ``dtype``, builder arguments such as ``channels_per_group``). A workload that does
  not take a parameter is swept without it (its rows show an empty value).

A bare name that fits two groups must be written with its prefix. Every axis value is validated
against the base spec / workload when the sweep loads (one error naming ``axes.<name>``);
combinations that are invalid only together become error rows of the sweep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archsim import SCHEMA_VERSION, __version__
from archsim.arch.registry import ArchPlugin, plugin_for_spec
from archsim.dse.area import AreaModel
from archsim.dse.axes import Axis, parse_axes
from archsim.dse.workloads import WorkloadRef, canonical_json, check_params
from archsim.errors import InputError

LEVELS = ("analytic", "event", "cycle")
RUN_NAMES = ("level", "seed")
TOP_KEYS = ("version", "name", "description", "arch", "workloads", "level", "seed", "axes", "area")
#: version of the point key / row format (bumped when a stored row would mean something else)
DSE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Target:
    """What an axis name sets: ``group`` is ``arch``, ``run`` or ``workload``; ``path`` the field
    (dotted for nested spec fields), option or parameter."""

    group: str
    path: str

    def __str__(self) -> str:
        return f"{self.group}.{self.path}"


@dataclass(frozen=True)
class DesignPoint:
    """One point of a sweep: everything its result depends on, and the key that hashes it.

    ``spec`` is ``None`` (and ``error`` says why) when the axis values are valid one by one but
    not together; such a point is stored as an error row without running.
    """

    idx: int
    key: str
    spec: Any
    workload: WorkloadRef | None
    level: str
    seed: int
    options: tuple[tuple[str, Any], ...]
    axes: tuple[tuple[str, Any], ...]
    area: AreaModel
    inputs_json: str
    error: str | None = None

    @property
    def workload_name(self) -> str:
        return self.workload.name if self.workload is not None else ""


def spec_fields(spec: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every init field of a spec dataclass (nested dataclass fields expanded)."""
    out = []
    for f in dataclasses.fields(spec):
        if not f.init:
            continue
        value = getattr(spec, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.extend(spec_fields(value, f"{prefix}{f.name}."))
        else:
            out.append(f"{prefix}{f.name}")
    return out


def _spec_dict(spec: Any) -> dict[str, Any]:
    to_dict = getattr(spec, "to_dict", None)
    return to_dict() if callable(to_dict) else dataclasses.asdict(spec)


def _with_field(spec: Any, path: list[str], value: Any) -> Any:
    """``spec`` with the (dotted) field replaced, validated like a spec file field."""
    from archsim.specs import spec_from_mapping

    name = path[0]
    if len(path) > 1:
        return dataclasses.replace(spec, **{name: _with_field(getattr(spec, name), path[1:], value)})
    current = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.init}
    current[name] = value
    return spec_from_mapping(type(spec), current)


def _field_of(spec: Any, path: list[str]) -> tuple[type, dataclasses.Field]:
    for part in path[:-1]:
        spec = getattr(spec, part)
    fields = {f.name: f for f in dataclasses.fields(spec)}
    return type(spec), fields[path[-1]]


def _field_problem(spec: Any, path: list[str], value: Any) -> str | None:
    """What is wrong with ``value`` for the field by itself (its type, choices or minimum), or
    None. The type check follows the spec-file rules (an int is a fine float)."""
    cls, f = _field_of(spec, path)
    tp = typing.get_type_hints(cls).get(f.name)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int and not (numeric and int(value) == value):
        return "an integer"
    if tp is float and not numeric:
        return "a number"
    if tp is str and not isinstance(value, str):
        return "a string"
    if tp is bool and not isinstance(value, bool):
        return "true or false"
    choices = f.metadata.get("choices")
    if choices is not None and value not in choices:
        return f"one of {list(choices)}"
    lo = f.metadata.get("min")
    if lo is not None and numeric and value < lo:
        return f"a value >= {lo}"
    return None


def _plain_coerce(spec: Any, path: list[str], value: Any) -> Any:
    cls, f = _field_of(spec, path)
    tp = typing.get_type_hints(cls).get(f.name)
    return float(value) if tp is float else int(value) if tp is int else value


def _replace_all(spec: Any, changes: dict[str, Any]) -> Any:
    """Apply already-validated field values (dotted paths) in one pass per nesting level."""
    top = {k: v for k, v in changes.items() if "." not in k}
    nested: dict[str, dict[str, Any]] = {}
    for k, v in changes.items():
        if "." in k:
            head, rest = k.split(".", 1)
            nested.setdefault(head, {})[rest] = v
    for head, sub in nested.items():
        top[head] = _replace_all(getattr(spec, head), sub)
    return dataclasses.replace(spec, **top) if top else spec


def _load_base_arch(raw: Any, source: str | None, base_dir: Path | None) -> tuple[Any, str]:
    from archsim.api import resolve_arch
    from archsim.arch import spec_from_yaml_data

    if isinstance(raw, str):
        candidate = Path(raw)
        if base_dir is not None and not candidate.is_absolute() and (base_dir / candidate).is_file():
            raw = str(base_dir / candidate)
        try:
            return resolve_arch(raw), str(raw)
        except InputError as e:
            raise InputError(source, "arch", e.expected, e.got if e.got is not None else raw) from None
    if isinstance(raw, dict):
        data = {"version": 1, **raw}
        return spec_from_yaml_data(data, f"{source or '<sweep>'}: arch"), "inline"
    if dataclasses.is_dataclass(raw) and not isinstance(raw, type):
        return raw, getattr(raw, "name", type(raw).__name__)
    raise InputError(source, "arch", "a preset name, a spec file, an inline {kind: ..., <kind>: {...}} or a spec",
                     raw)


def _load_workloads(raw: Any, source: str | None, base_dir: Path | None) -> list[WorkloadRef]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    refs = []
    for i, item in enumerate(items):
        field = f"workloads[{i}]"
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and isinstance(item.get("model"), str):
            name, params = item["model"], {k: v for k, v in item.items() if k != "model"}
        else:
            raise InputError(source, field, "a model name/file or {model: NAME, <param>: value, ...}", item)
        try:
            ref = WorkloadRef.resolve(name, params, base_dir)
        except InputError as e:
            raise InputError(source, f"{field}.model", e.expected, name) from None
        check_params(ref, source, field)
        _check_builds(ref, source, field)
        refs.append(ref)
    return refs


def _check_builds(ref: WorkloadRef, source: str | None, field: str) -> None:
    try:
        ref.build()
    except InputError as e:
        raise InputError(source, f"{field}.{e.field}" if e.field else field, e.expected, e.got) from None


@dataclass(frozen=True)
class SweepSpec:
    """A resolved sweep (see module docstring). :meth:`points` expands it."""

    name: str
    base: Any
    arch_ref: str
    workloads: tuple[WorkloadRef, ...]
    axes: tuple[Axis, ...]
    targets: tuple[tuple[str, Target], ...]
    level: str = "analytic"
    seed: int = 0
    area: AreaModel = AreaModel()
    source: str | None = None
    description: str = ""

    @property
    def kind(self) -> str:
        return plugin_for_spec(self.base).kind

    @property
    def axis_names(self) -> list[str]:
        return [n for a in self.axes for n in a.names]

    @property
    def size(self) -> int:
        """Number of points (before dropping duplicates)."""
        return len(self.points())

    def to_dict(self) -> dict[str, Any]:
        """The resolved sweep, as ``sweep.json`` records it."""
        axes: dict[str, Any] = {}
        for a in self.axes:
            axes.update(a.to_dict())
        return {
            "name": self.name,
            "description": self.description,
            "arch_ref": self.arch_ref,
            "arch": {"kind": self.kind, **_spec_dict(self.base)},
            "workloads": [w.to_dict() for w in self.workloads],
            "axes": axes,
            "targets": {n: str(t) for n, t in self.targets},
            "level": self.level,
            "seed": self.seed,
            "area": self.area.to_dict(),
        }

    @property
    def sweep_id(self) -> str:
        d = self.to_dict()
        d["workloads"] = [w.key_dict() for w in self.workloads]
        d.pop("description")
        return hashlib.sha256(canonical_json(d).encode()).hexdigest()[:16]

    # -- expansion ----------------------------------------------------------------------------
    def points(self) -> list[DesignPoint]:
        """Every design point, workloads outermost, then the axes in the order written (the
        last axis varies fastest). Points with the same key appear once (the first)."""
        cached = self.__dict__.get("_points")
        if cached is not None:
            return cached
        plugin = plugin_for_spec(self.base)
        targets = dict(self.targets)
        kind = plugin.kind
        out: list[DesignPoint] = []
        seen: set[str] = set()
        wl_list: list[WorkloadRef | None] = list(self.workloads) or [None]
        for wl in wl_list:
            accepted = set(wl.accepted) if wl is not None else set()
            per_axis = []
            for a in self.axes:
                usable = all(targets[n].group != "workload" or targets[n].path in accepted for n in a.names)
                per_axis.append(a.values if usable else (tuple(None for _ in a.names),))
            for combo in itertools.product(*per_axis):
                arch: dict[str, Any] = {}
                run: dict[str, Any] = {}
                params: dict[str, Any] = {}
                axes_vals = []
                for a, values in zip(self.axes, combo):
                    for n, v in zip(a.names, values):
                        axes_vals.append((n, v))
                        if v is None and targets[n].group == "workload":
                            continue
                        t = targets[n]
                        {"arch": arch, "run": run, "workload": params}[t.group][t.path] = v
                point = self._point(len(out), plugin, kind, wl, arch, run, params, tuple(axes_vals))
                if point.key in seen:
                    continue
                seen.add(point.key)
                out.append(point)
        self.__dict__["_points"] = out
        return out

    def _point(self, idx: int, plugin: ArchPlugin, kind: str, wl: WorkloadRef | None, arch: dict, run: dict,
               params: dict, axes: tuple) -> DesignPoint:
        error = None
        try:
            spec = _replace_all(self.base, arch)
            arch_dict = _spec_dict(spec)
        except (InputError, TypeError, ValueError) as e:
            spec = None
            arch_dict = {**_spec_dict(self.base), **arch}
            error = f"{type(e).__name__}: {e}" if not isinstance(e, InputError) else str(e)
        level = run.pop("level", self.level)
        seed = run.pop("seed", self.seed)
        options = tuple(sorted(run.items()))
        ref = wl.with_params(**params) if wl is not None else None
        inputs = {
            "dse_schema_version": DSE_SCHEMA_VERSION,
            "schema_version": SCHEMA_VERSION,
            "archsim_version": __version__,
            "kind": kind,
            "arch": arch_dict,
            "workload": ref.key_dict() if ref is not None else None,
            "level": level,
            "seed": seed,
            "options": dict(options),
            "area": self.area.to_dict(),
        }
        text = canonical_json(inputs)
        key = hashlib.sha256(text.encode()).hexdigest()
        return DesignPoint(idx, key, spec, ref, level, seed, options, axes, self.area, text, error)


# -- building a SweepSpec ---------------------------------------------------------------------
def _resolve_name(name: str, base: Any, plugin: ArchPlugin, workloads: list[WorkloadRef],
                  source: str | None) -> Target:
    fields = spec_fields(base)
    run_names = list(RUN_NAMES) + [o for o in plugin.options if o not in RUN_NAMES]
    params = sorted({p for w in workloads for p in w.accepted})
    field = f"axes.{name}"
    groups = {"arch": fields, "run": run_names, "workload": params}
    head, _, rest = name.partition(".")
    if head in groups and rest:
        if rest not in groups[head]:
            raise InputError(source, field, f"one of the {head} names ({', '.join(groups[head]) or 'none'})", rest)
        return Target(head, rest)
    found = [g for g, names in groups.items() if name in names]
    if len(found) > 1:
        raise InputError(source, field, f"a prefixed name ({' or '.join(f'{g}.{name}' for g in found)}): "
                         f"{name} is ambiguous", name)
    if not found:
        raise InputError(
            source, field,
            f"a field of {type(base).__name__} ({', '.join(fields)}), a run option ({', '.join(run_names)}) "
            f"or a workload parameter ({', '.join(params) or 'none'})", name)
    return Target(found[0], name)


def _validate_axis(axis: Axis, targets: dict[str, Target], base: Any, workloads: list[WorkloadRef],
                   source: str | None) -> Axis:
    """Each value checked on its own against the base; spec values come back coerced
    (``64`` for a float field becomes ``64.0``)."""
    values = [list(v) for v in axis.values]
    for i, name in enumerate(axis.names):
        t = targets[name]
        field = f"axes.{axis.label}" if len(axis.names) == 1 else f"axes.{axis.label}.zip.{name}"
        for row in values:
            v = row[i]
            if t.group == "arch":
                try:
                    obj = _with_field(base, t.path.split("."), v)
                except (InputError, TypeError, ValueError) as e:
                    # wrong on its own (type, choices, minimum): a spec error; valid on its own
                    # but not with the base's other fields: combinations decide (error rows)
                    problem = _field_problem(base, t.path.split("."), v)
                    if problem is None and isinstance(e, InputError):
                        row[i] = _plain_coerce(base, t.path.split("."), v)
                        continue
                    expected = problem or (e.expected if isinstance(e, InputError) else "a valid value")
                    raise InputError(source, field, expected, v) from None
                for part in t.path.split("."):
                    obj = getattr(obj, part)
                row[i] = obj
            elif t.group == "run" and t.path == "level" and v not in LEVELS:
                raise InputError(source, field, f"one of {list(LEVELS)}", v)
            elif t.group == "run" and t.path == "seed" and (isinstance(v, bool) or not isinstance(v, int)):
                raise InputError(source, field, "an integer", v)
            elif t.group == "workload":
                for w in workloads:
                    if t.path in w.accepted:
                        try:
                            w.with_params(**{t.path: v}).build()
                        except InputError as e:
                            raise InputError(source, field, e.expected, v) from None
    return Axis(axis.label, axis.names, tuple(tuple(r) for r in values))


def build_sweep(data: Any, *, source: str | None = None, base_dir: Path | None = None) -> SweepSpec:
    """A :class:`SweepSpec` from a parsed sweep YAML mapping (or a dict written in Python;
    ``arch`` may then be a spec object). Errors name ``source`` and the field."""
    if not isinstance(data, dict):
        raise InputError(source, None, "a mapping with arch, workloads and axes", type(data).__name__)
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise InputError(source, unknown[0], f"one of the sweep keys ({', '.join(TOP_KEYS)})", unknown[0])
    if data.get("version", 1) != 1:
        raise InputError(source, "version", "1", data.get("version"))
    if "arch" not in data:
        raise InputError(source, "arch", "the base architecture (a preset name, spec file or inline spec)")
    base, arch_ref = _load_base_arch(data["arch"], source, base_dir)
    plugin = plugin_for_spec(base)
    workloads = _load_workloads(data.get("workloads"), source, base_dir)
    if plugin.needs_workload and not workloads:
        raise InputError(source, "workloads", f"at least one workload for {plugin.kind} architectures")
    level = data.get("level", "analytic")
    if level not in LEVELS:
        raise InputError(source, "level", f"one of {list(LEVELS)}", level)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(source, "seed", "an integer", seed)
    axes = parse_axes(data.get("axes"), source)
    targets: dict[str, Target] = {}
    for a in axes:
        for n in a.names:
            targets[n] = _resolve_name(n, base, plugin, workloads, source)
    axes = [_validate_axis(a, targets, base, workloads, source) for a in axes]
    name = data.get("name") or (Path(source).stem if source else "sweep")
    sweep = SweepSpec(
        name=str(name), base=base, arch_ref=arch_ref, workloads=tuple(workloads), axes=tuple(axes),
        targets=tuple(targets.items()), level=level, seed=seed, area=AreaModel.from_dict(data.get("area"), source),
        source=source, description=str(data.get("description") or ""),
    )
    _reject_never_valid(sweep, source)
    return sweep


def _reject_never_valid(sweep: SweepSpec, source: str | None) -> None:
    """A spec-field value that fails in every combination of the sweep (an unknown DRAM standard)
    is a spec error; one that fails only with some other values leaves error rows."""
    points = sweep.points()
    if all(p.error is None for p in points):
        return
    targets = dict(sweep.targets)
    for a in sweep.axes:
        for name in a.names:
            if targets[name].group != "arch":
                continue
            valid = {(type(v), v) for p in points if p.error is None for n, v in p.axes if n == name}
            for p in points:
                v = dict(p.axes)[name]
                if p.error is None or (type(v), v) in valid:
                    continue
                field = f"axes.{a.label}" if len(a.names) == 1 else f"axes.{a.label}.zip.{name}"
                try:
                    _with_field(sweep.base, targets[name].path.split("."), v)
                except InputError as e:
                    raise InputError(source, field, e.expected, v) from None
                except (TypeError, ValueError) as e:
                    raise InputError(source, field, "a valid value", f"{v} ({e})") from None
                raise InputError(source, field, f"a value valid with some other axis values ({p.error})", v)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML (relative arch/workload paths resolve against its directory)."""
    from archsim.specs import load_yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "an existing sweep spec .yaml file")
    return build_sweep(load_yaml(p), source=str(p), base_dir=p.parent)
