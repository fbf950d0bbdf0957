"""atomic_open / atomic_write_*: all-or-nothing replacement, no temp files left behind."""

from __future__ import annotations

import os
import stat

import pytest

from archsim.report import atomic
from archsim.report.atomic import atomic_open, atomic_write_bytes, atomic_write_text


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_write_text_and_bytes(tmp_path):
    p = tmp_path / "a.txt"
    assert atomic_write_text(p, "x\ny\n") == p
    assert p.read_bytes() == b"x\ny\n"  # no newline translation
    q = tmp_path / "b.bin"
    atomic_write_bytes(q, b"\x00\x01")
    assert q.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_replaces_existing_and_keeps_its_permissions(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("old")
    os.chmod(p, 0o640)
    atomic_write_text(p, "new")
    assert p.read_text() == "new"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


def test_new_file_gets_umask_permissions(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


def test_exception_midway_keeps_old_file_and_removes_temp(tmp_path):
    p = tmp_path / "report.json"
    p.write_text("old content")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(p, "w") as f:
            f.write("half of the new")
            raise RuntimeError("boom")
    assert p.read_text() == "old content"
    assert _leftovers(tmp_path) == []


def test_exception_on_new_path_creates_nothing(tmp_path):
    p = tmp_path / "new.csv"
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(p, "wb") as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_failing_fsync_keeps_old_file(tmp_path, monkeypatch):
    """A crash after the bytes are written but before the rename."""
    p = tmp_path / "a.txt"
    p.write_text("old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(p, "new content")
    assert p.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_rejects_non_write_modes(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "a", "a"):
            pass
    assert list(tmp_path.iterdir()) == []
