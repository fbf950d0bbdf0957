"""``archsim`` subcommands, discovered: every module in this package that defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int`` is a subcommand. Adding a command is
adding a module; ``archsim/cli.py`` does not change.

Commands raise :class:`~archsim.errors.InputError` for bad input; the CLI prints it on one line
and exits 2.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(mod, a) for a in ("NAME", "HELP", "add_arguments", "run")):
            mods.append(mod)
    return mods
