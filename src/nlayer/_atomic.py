"""Atomic file writes: a crash or a kill leaves either the old file or the new one, never
a torn mixture.

The data goes to a temporary file in the same folder, is flushed and fsync'ed, then
``os.replace`` swaps it in (atomic on POSIX and Windows), and the folder is fsync'ed so
the rename itself survives a power cut.

A symlink is written through: the file it points to is replaced, in that file's folder, and
the link stays. Only a regular file or a new name is ever replaced: a directory, a device,
a FIFO or a socket at the path is refused (as root, ``os.replace`` would swap out
``/dev/full`` itself). An ``OSError`` names the path the caller gave, not the temp file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """fsync a folder so a rename inside it is durable (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(f)`` on a binary temp file beside ``path``, then swap it in atomically.

    If ``write`` or anything after it fails, the temp file is removed and ``path`` is
    left exactly as it was. ``path`` may be a symlink (the file it points to is replaced);
    an existing ``path`` that is not a regular file raises ``OSError`` and is not touched.
    """
    target = _regular_target(path)
    folder = target.parent                # target is absolute: the folder of the file a link points to
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        os.chmod(tmp, _file_mode(target))    # mkstemp makes 0600; a new file gets the usual mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _before_replace(tmp, target)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise _naming(exc, path) from exc    # "No space left on device: run/model.safetensors"
        raise
    fsync_dir(folder)


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISSOCK, "a socket"))


def _regular_target(path: str | os.PathLike[str]) -> Path:
    """The file to replace: ``path``, or the file a symlink at ``path`` points to (a new
    name is fine). ``OSError`` if it exists and is not a regular file."""
    if not os.fspath(path):                  # realpath("") is the working directory
        raise FileNotFoundError(errno.ENOENT, "an empty file name cannot be written")
    try:
        st = os.stat(path)                   # follows symlinks, /proc/self/fd/1 included
    except FileNotFoundError:                # a new file, or a link to one
        return Path(os.path.realpath(path))
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for is_kind, name in _KINDS if is_kind(st.st_mode)), "something else")
        raise OSError(errno.EINVAL, f"{os.fspath(path)} is {kind}, not a regular file; nlayer writes only "
                      "regular files (it replaces them whole)")
    return Path(os.path.realpath(path))


def _naming(exc: OSError, path: str | os.PathLike[str]) -> OSError:
    """``exc`` (same class and errno) naming ``path`` instead of the temp file, or nothing."""
    return type(exc)(exc.errno, exc.strerror or str(exc), os.fspath(path))


def _file_mode(target: Path) -> int:
    """The mode the file should end with: that of the file it replaces, else 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _before_replace(tmp: str, target: Path) -> None:
    """Hook between the fsync'ed temp file and the rename; tests patch it to inject a crash."""
