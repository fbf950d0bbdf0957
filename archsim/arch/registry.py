"""Architecture kinds, discovered from the hardware-model packages.

Each package ``archsim/hw/<model>/`` that can run a workload end to end exposes
``PLUGIN = ArchPlugin(...)`` in its ``__init__.py``: the spec dataclass (loaded from the section
named ``kind`` of a spec YAML), the function that simulates a workload graph on it, and the extra
``archsim run`` options it understands. Nothing else needs editing to add an architecture kind.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from archsim.errors import InputError


@dataclass(frozen=True)
class ArchPlugin:
    """How ``archsim run`` drives one kind of architecture.

    * ``simulate(graph, spec, *, level, seed, record_events, **options) -> RunResult``
    * ``add_run_arguments(group)`` adds this kind's ``archsim run`` flags to an argparse group;
      ``options`` lists their destination names (forwarded to ``simulate`` when given)
    * ``spec_overrides`` lists options that are spec fields (applied with ``spec.replace``)
    """

    kind: str
    spec_cls: type
    simulate: Callable[..., Any]
    add_run_arguments: Callable[[argparse._ArgumentGroup], None] | None = None
    options: tuple[str, ...] = ()
    spec_overrides: tuple[str, ...] = ()
    needs_workload: bool = True
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def plugins() -> dict[str, ArchPlugin]:
    """``kind -> ArchPlugin`` for every hardware package that defines ``PLUGIN``."""
    import archsim.hw as hw

    found: dict[str, ArchPlugin] = {}
    for mod in sorted(pkgutil.iter_modules(hw.__path__), key=lambda m: m.name):
        if not mod.ispkg:
            continue
        pkg = importlib.import_module(f"archsim.hw.{mod.name}")
        plugin = getattr(pkg, "PLUGIN", None)
        if isinstance(plugin, ArchPlugin):
            found[plugin.kind] = plugin
    return found


def plugin_for_spec(spec: Any) -> ArchPlugin:
    for p in plugins().values():
        if isinstance(spec, p.spec_cls):
            return p
    raise InputError("--arch", "kind", f"a spec of one of the kinds {sorted(plugins())}", type(spec).__name__)


def plugin_for_kind(kind: str, source: str) -> ArchPlugin:
    p = plugins().get(kind)
    if p is None:
        raise InputError(source, "kind", f"one of {sorted(plugins())}", kind)
    return p
