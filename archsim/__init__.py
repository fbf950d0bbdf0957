"""archsim: a cycle-level simulator of DNN and LLM hardware accelerators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("archsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

SCHEMA_VERSION = 1

__all__ = ["__version__", "SCHEMA_VERSION"]
