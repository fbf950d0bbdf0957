import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def rtl_build_root(tmp_path_factory) -> Path:
    """Where the RTL tests build: ``ARCHSIM_RTL_BUILD_DIR`` if set (e.g. ``sim_build`` to keep the
    builds and waveforms, or a CI cache), else a fresh directory per session (so that test runs
    in one checkout never share a build)."""
    env = os.environ.get("ARCHSIM_RTL_BUILD_DIR")
    return Path(env).resolve() if env else tmp_path_factory.mktemp("sim_build")
