"""Which build of the replay loop runs: :mod:`archsim.hw.dram._fastloop` compiled by Cython (the
extension ``_fastloop_c`` that ``setup.py`` builds at install time) when that extension was built
from the very source installed, else the module itself, interpreted. Both make the same decisions
(tests/dram/test_fast_paths.py runs its cases on each); the compiled one is about 2-2.5x faster
on random traces and 1.3-2x on sequential ones (benchmarks/bench_dram.py measures both).

``ARCHSIM_PURE_PYTHON=1`` in the environment forces the interpreted loop; :func:`use` switches
builds in a running process.
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


def available() -> dict[str, ModuleType]:
    """The builds that can run here: ``python`` always, ``cython`` when installed and current."""
    mod = compiled_loop()
    return {"python": _fastloop, **({"cython": mod} if mod is not None else {})}


def use(build: str) -> None:
    """Run the replay loop of ``build`` (a key of :data:`BUILDS`) from now on."""
    global LOOP_BUILD, run_one_channel
    run_one_channel = BUILDS[build].run_one_channel
    LOOP_BUILD = build


#: the builds found when this module was imported (the source is hashed once)
BUILDS = available()
LOOP_BUILD = "cython" if os.environ.get(PURE_ENV, "") in ("", "0") and "cython" in BUILDS else "python"
run_one_channel = BUILDS[LOOP_BUILD].run_one_channel
