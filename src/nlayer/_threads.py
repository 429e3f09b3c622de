"""Element-wise work split over a few threads.

NumPy's matrix products already use every BLAS thread, but its element-wise ufuncs
(the optimizer update, ReLU, the inference forward's bias and activations) run on the
calling thread only. Those ufuncs release the GIL, so the same equation lines run on
contiguous pieces of the arrays in a few Python threads finish sooner on a multi-core
CPU. Element-wise results do not depend on how the array is cut, so a split run is bit
for bit the same as an unsplit one; reductions (sums, dot products) are never split here.

``set_num_threads(n)`` sets how many threads nlayer uses (the calling thread included);
1 turns splitting off. The default is the number of CPUs this process may use, at most
4 (element-wise work is limited by memory bandwidth beyond that). nlayer never changes
the BLAS thread count or any environment variable.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections.abc import Callable, Sequence

from .errors import ConfigError

MAX_DEFAULT_THREADS = 4


def _default_threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_THREADS))


_num_threads = _default_threads()


def set_num_threads(n: int | None) -> None:
    """Use ``n`` threads (the caller included) for nlayer's element-wise work; 1 = none.

    ``None`` restores the default: the CPUs available to this process, at most 4.
    Matrix products follow NumPy's BLAS settings (e.g. ``threadpoolctl``), not this one.
    """
    global _num_threads
    if n is None:
        _num_threads = _default_threads()
        return
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 256:
        raise ConfigError(f"the number of threads must be a whole number from 1 to 256; got {n!r}")
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads nlayer splits element-wise work over (see ``set_num_threads``)."""
    return _num_threads


def chunks(n: int, min_chunk: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: 0..n in at most ``get_num_threads()`` contiguous pieces of at
    least ``min_chunk`` items each (one piece, ``[(0, n)]``, when n is small)."""
    k = max(1, min(_num_threads, n // max(1, min_chunk)))
    bounds = [n * i // k for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


class _Pool:
    """Persistent worker threads, each waiting on its own queue for ``(fn, args)``."""

    def __init__(self) -> None:
        self._tasks: list[queue.SimpleQueue] = []
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._busy = threading.Lock()

    def _grow(self, n: int) -> None:
        while len(self._tasks) < n:
            tasks: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=self._work, args=(tasks,), daemon=True,
                                      name=f"nlayer-{len(self._tasks) + 1}")
            thread.start()
            self._tasks.append(tasks)

    def _work(self, tasks: queue.SimpleQueue) -> None:
        while True:
            ctx, fn, args = tasks.get()
            try:
                ctx.run(fn, *args)
            except BaseException as error:  # handed to the caller, who re-raises it
                self._done.put(error)
            else:
                self._done.put(None)

    def run(self, fn: Callable[..., object], pieces: Sequence[tuple[object, ...]]) -> None:
        """``fn(*args)`` for every ``args`` in ``pieces``; the caller runs the first one.

        Runs everything on the calling thread when the pool is already in use (another
        thread of the program is training at the same time).
        """
        if len(pieces) == 1 or not self._busy.acquire(blocking=False):
            for args in pieces:
                fn(*args)
            return
        try:
            self._grow(len(pieces) - 1)
            for tasks, args in zip(self._tasks, pieces[1:]):
                # the caller's context (np.errstate lives there); a context runs in one thread at a time
                tasks.put((contextvars.copy_context(), fn, args))
            error: BaseException | None = None
            try:
                fn(*pieces[0])
            except BaseException as e:
                error = e
            for _ in pieces[1:]:            # always wait: the workers write into our arrays
                result = self._done.get()
                error = error or result
            if error is not None:
                raise error
        finally:
            self._busy.release()


_pool = _Pool()


def _reset_after_fork() -> None:  # pragma: no cover - exercised by forking users only
    global _pool
    _pool = _Pool()                         # the parent's threads do not exist in the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def run_pieces(fn: Callable[..., object], pieces: Sequence[tuple[object, ...]]) -> None:
    """``fn(*args)`` for every ``args`` in ``pieces``, in parallel; returns when all are done."""
    _pool.run(fn, pieces)
