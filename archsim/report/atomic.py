"""Atomic file writes: temp file in the destination's directory, fsync, ``os.replace``.

A crash or an exception mid-write never leaves a half-written file: the destination holds either
its old content or the complete new content, and the temp file is removed on failure.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: permissions for new files, as ``open()`` would create them (0o666 minus the umask)
_NEW_FILE_MODE = 0o666 & ~_read_umask()

_TEXT_MODES = ("w", "wt")
_BINARY_MODES = ("wb",)


@contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str = "utf-8", newline: str | None = ""
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so the content appears all at once when the block exits.

    ``mode`` is ``"w"``/``"wt"`` (text; ``encoding`` and ``newline`` apply, no newline
    translation by default so files are identical on every OS) or ``"wb"``. On any exception the
    temp file is removed, the destination is untouched and the exception propagates. An existing
    file keeps its permission bits; a new one gets ``0o666`` minus the umask.
    """
    if mode not in _TEXT_MODES + _BINARY_MODES:
        raise ValueError(f"atomic_open: mode must be one of {_TEXT_MODES + _BINARY_MODES}, got {mode!r}")
    dest = Path(path)
    try:
        file_mode = stat.S_IMODE(os.stat(dest).st_mode)
    except FileNotFoundError:
        file_mode = _NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        text_args = {"encoding": encoding, "newline": newline} if mode in _TEXT_MODES else {}
        with os.fdopen(fd, mode, **text_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(dest.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        dfd = os.open(directory, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation); returns the path."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)
