"""Which build of the replay loop runs (archsim/hw/dram/loop.py): the Cython extension only when it
was compiled from the installed source, the interpreted module otherwise or on request."""

import importlib
import sys

import pytest

from archsim.hw.dram import _fastloop, loop


@pytest.fixture
def reload_loop(monkeypatch):
    """Re-select the build under an environment changed with ``monkeypatch``; then undoes the
    changes and restores the selection as it was."""
    saved = loop.LOOP_BUILD
    yield lambda: importlib.reload(loop)
    monkeypatch.undo()
    importlib.reload(loop)
    loop.use(saved)


def test_compiled_build_is_selected_when_installed(monkeypatch, reload_loop):
    if loop.compiled_loop() is None:
        pytest.skip("the Cython build of the replay loop is not installed (no Cython or C compiler at install time)")
    monkeypatch.delenv(loop.PURE_ENV, raising=False)
    mod = reload_loop()
    assert mod.LOOP_BUILD == "cython" and sorted(mod.BUILDS) == ["cython", "python"]
    assert mod.run_one_channel is mod.compiled_loop().run_one_channel is not _fastloop.run_one_channel


def test_environment_forces_the_interpreted_loop(monkeypatch, reload_loop):
    monkeypatch.setenv(loop.PURE_ENV, "1")
    mod = reload_loop()
    assert mod.LOOP_BUILD == "python" and mod.run_one_channel is _fastloop.run_one_channel


def test_build_from_another_source_is_not_used(monkeypatch, reload_loop):
    # an extension stamped with another source's digest (``_fastloop.py`` edited since the install)
    fake = type(sys)("archsim.hw.dram._fastloop_c")
    fake.SOURCE_SHA256 = "0" * 64
    fake.run_one_channel = None
    monkeypatch.setitem(sys.modules, "archsim.hw.dram._fastloop_c", fake)
    monkeypatch.delenv(loop.PURE_ENV, raising=False)
    assert loop.compiled_loop() is None and list(loop.available()) == ["python"]
    mod = reload_loop()
    assert mod.LOOP_BUILD == "python" and mod.run_one_channel is _fastloop.run_one_channel
    assert list(mod.BUILDS) == ["python"]


def test_use_switches_builds():
    saved = loop.LOOP_BUILD
    try:
        for build, mod in loop.BUILDS.items():
            loop.use(build)
            assert loop.LOOP_BUILD == build and loop.run_one_channel is mod.run_one_channel
        with pytest.raises(KeyError):
            loop.use("fortran")
    finally:
        loop.use(saved)
