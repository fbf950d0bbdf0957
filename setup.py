"""Build hook: the DRAM replay loop, compiled by Cython when it can be (optional).

``archsim/hw/dram/_fastloop.py`` is plain Python and stays the source of truth. At install time a
copy of it, stamped with the SHA-256 of the source it came from, is compiled by Cython into the
extension ``archsim.hw.dram._fastloop_c``; :mod:`archsim.hw.dram.loop` runs that extension only
while the stamp equals the installed source (so an edited ``_fastloop.py`` runs as Python until
the next install). Without Cython or a C compiler the build skips the extension and archsim runs
the same loop interpreted. Everything else is in pyproject.toml.
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = Path("archsim/hw/dram/_fastloop.py")
STAMPED = Path("build/cython/_fastloop_c.py")


def loop_extension() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    text = SOURCE.read_bytes()
    STAMPED.parent.mkdir(parents=True, exist_ok=True)
    stamp = f'\nSOURCE_SHA256 = "{hashlib.sha256(text).hexdigest()}"\n'.encode()
    STAMPED.write_bytes(text + stamp)
    ext = Extension("archsim.hw.dram._fastloop_c", [str(STAMPED)])
    try:
        return cythonize([ext], compiler_directives={"language_level": 3}, quiet=True)
    except Exception as e:  # Cython rejects the source: install without the extension
        print(f"archsim: Cython could not translate the replay loop ({e}); the interpreted one will run")
        return []


class OptionalBuildExt(build_ext):
    """build_ext whose failure (no C compiler, no Python headers) leaves the package pure Python."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # any build failure: install without the extension
            print(f"archsim: the compiled replay loop was not built ({e}); the interpreted one will run")


setup(ext_modules=loop_extension(), cmdclass={"build_ext": OptionalBuildExt})
