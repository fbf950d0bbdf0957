"""Architecture specs: presets by name, YAML spec files and SCALE-Sim ``.cfg`` files.

A spec YAML has ``version: 1``, ``kind: <model>`` and one section named after the kind with the
fields of that model's frozen spec dataclass (units in names). Presets live in
``archsim/arch/presets/<name>.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archsim.arch.registry import plugin_for_kind, plugins
from archsim.errors import InputError
from archsim.specs import load_yaml, spec_from_mapping

PRESETS_DIR = Path(__file__).parent / "presets"


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def spec_from_yaml_data(data: Any, source: str) -> Any:
    if not isinstance(data, dict):
        raise InputError(source, None, "a mapping with version, kind and a section named after the kind",
                         type(data).__name__)
    if data.get("version") != 1:
        raise InputError(source, "version", "1", data.get("version"))
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise InputError(source, "kind", f"one of {sorted(plugins())}", kind)
    plugin = plugin_for_kind(kind, source)
    extra = set(data) - {"version", "kind", kind}
    if extra:
        raise InputError(source, sorted(extra)[0], f"only version, kind and {kind}", sorted(extra)[0])
    return spec_from_mapping(plugin.spec_cls, data.get(kind) or {}, source=source, prefix=f"{kind}.")


def load_arch(name_or_path: str) -> Any:
    """A spec from a preset name, a ``.yaml`` spec file or a SCALE-Sim ``.cfg`` file."""
    p = Path(name_or_path)
    if p.suffix == ".cfg":
        if not p.exists():
            raise InputError("--arch", None, "an existing SCALE-Sim .cfg file", name_or_path)
        from archsim.hw.systolic.scalesim_cfg import load_scalesim_cfg

        return load_scalesim_cfg(p)
    if p.suffix in (".yaml", ".yml"):
        if not p.exists():
            raise InputError("--arch", None, "an existing spec file", name_or_path)
        return spec_from_yaml_data(load_yaml(p), str(p))
    preset = PRESETS_DIR / f"{name_or_path}.yaml"
    if preset.exists():
        return spec_from_yaml_data(load_yaml(preset), str(preset))
    raise InputError("--arch", None, f"a preset ({', '.join(list_presets())}), a .yaml spec or a SCALE-Sim .cfg",
                     name_or_path)
