"""Which build of the replay loop runs: :mod:`archsim.hw.dram._fastloop` compiled by Cython (the
extension ``_fastloop_c`` that ``setup.py`` builds at install time) when that extension was built
from the very source installed, else the module itself, interpreted. Both make the same decisions
(tests/dram/test_fast_paths.py runs its cases on each); the compiled one is 2-3x faster.

``ARCHSIM_PURE_PYTHON=1`` in the environment forces the interpreted loop.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from types import ModuleType

from archsim.hw.dram import _fastloop

PURE_ENV = "ARCHSIM_PURE_PYTHON"


def compiled_loop() -> ModuleType | None:
    """The Cython build of :mod:`~archsim.hw.dram._fastloop`, or None when it is missing or was
    built from another version of the source."""
    try:
        _fastloop_c = importlib.import_module("archsim.hw.dram._fastloop_c")
    except ImportError:
        return None
    digest = hashlib.sha256(Path(_fastloop.__file__).read_bytes()).hexdigest()
    return _fastloop_c if getattr(_fastloop_c, "SOURCE_SHA256", None) == digest else None


def _select() -> tuple[ModuleType, str]:
    mod = None if os.environ.get(PURE_ENV, "") not in ("", "0") else compiled_loop()
    return (mod, "cython") if mod is not None else (_fastloop, "python")


_module, LOOP_BUILD = _select()
run_one_channel = _module.run_one_channel
