"""Atomic writes: the old file or the new one, never a mixture; ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from nlayer import _atomic


def test_a_new_file_gets_the_usual_permissions_not_mkstemps_0600(tmp_path):
    umask = os.umask(0o022)
    try:
        _atomic.atomic_write_bytes(tmp_path / "model.bin", b"data")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "model.bin").stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    path.chmod(0o600)
    _atomic.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_crash_before_the_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old contents")

    def crash(tmp, target):
        raise OSError("disk on fire")

    monkeypatch.setattr(_atomic, "_before_replace", crash)
    with pytest.raises(OSError, match="disk on fire"):
        _atomic.atomic_write_bytes(path, b"new contents")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]
