"""Atomic file writes: a crash or a kill leaves either the old file or the new one, never
a torn mixture.

The data goes to a temporary file in the same folder, is flushed and fsync'ed, then
``os.replace`` swaps it in (atomic on POSIX and Windows), and the folder is fsync'ed so
the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
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
    left exactly as it was.
    """
    target = Path(path)
    folder = target.parent                # Path("m.safetensors").parent is Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, _file_mode(target))    # mkstemp makes 0600; a new file gets the usual mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _before_replace(tmp, target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


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
