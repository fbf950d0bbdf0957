"""Which build of the replay loop runs (archsim/hw/dram/loop.py): the Cython extension only when it
was compiled from the installed source, the interpreted module otherwise or on request."""

import importlib
import sys

import pytest

from archsim.hw.dram import _fastloop, loop


@pytest.fixture
def reload_loop():
    """Re-select the build under a changed environment; restores the module as it was."""
    yield lambda: importlib.reload(loop)
    importlib.reload(loop)


def test_compiled_build_is_selected_when_installed():
    if loop.compiled_loop() is None:
        pytest.skip("the Cython build of the replay loop is not installed (no Cython or C compiler at install time)")
    assert loop.LOOP_BUILD == "cython" or loop.os.environ.get(loop.PURE_ENV)
    assert loop.compiled_loop().run_one_channel is not _fastloop.run_one_channel


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
    assert loop.compiled_loop() is None
    mod = reload_loop()
    assert mod.LOOP_BUILD == "python" and mod.run_one_channel is _fastloop.run_one_channel
