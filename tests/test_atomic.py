"""Atomic writes: the old file or the new one, never a mixture; ordinary permissions."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

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


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "out.csv"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(Path("real") / "out.csv")                 # relative, into another folder
    _atomic.atomic_write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["out.csv"]   # the temp file was there


def test_a_dangling_symlink_creates_the_file_it_points_to(tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to("new.csv")
    _atomic.atomic_write_bytes(link, b"data")
    assert link.is_symlink() and (tmp_path / "new.csv").read_bytes() == b"data"


def special_files(tmp_path: Path) -> list[Path]:
    """A FIFO, a folder, a link to a FIFO and, as root, a character device (like /dev/full)."""
    fifo, folder, link = tmp_path / "fifo", tmp_path / "folder", tmp_path / "link"
    os.mkfifo(fifo)
    folder.mkdir()
    link.symlink_to(fifo)
    paths = [fifo, folder, link]
    if os.geteuid() == 0:                                      # only root may make a device node
        os.mknod(tmp_path / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        paths.append(tmp_path / "full")
    return paths


def test_a_fifo_a_folder_or_a_device_is_refused_and_left_as_it_was(tmp_path):
    for path in special_files(tmp_path):
        kind = stat.S_IFMT(path.stat().st_mode)
        with pytest.raises(OSError) as err:
            _atomic.atomic_write_bytes(path, b"data")
        assert str(path.name) in str(err.value)
        assert stat.S_IFMT(path.stat().st_mode) == kind
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_write_names_the_file_not_the_temp_file(tmp_path, monkeypatch):
    def disk_full(tmp, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic, "_before_replace", disk_full)
    with pytest.raises(OSError) as err:
        _atomic.atomic_write_bytes(tmp_path / "model.bin", b"data")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "model.bin")
    with pytest.raises(FileNotFoundError) as missing:
        _atomic.atomic_write_bytes(tmp_path / "no" / "model.bin", b"data")
    assert missing.value.filename == str(tmp_path / "no" / "model.bin")
    assert list(tmp_path.iterdir()) == []
