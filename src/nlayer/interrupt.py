"""Graceful Ctrl-C: the first SIGINT or SIGTERM stops training at the next epoch boundary.

    from nlayer.interrupt import GracefulInterrupt
    with GracefulInterrupt() as stop:
        net.fit(X, y, epochs=1000, callbacks=[Checkpoint("ckpt.safetensors"), stop])
    if stop.interrupted:
        print(f"interrupted at epoch {stop.epoch}")

- The first signal sets ``trainer.stop_training``: the running epoch finishes, callbacks
  run (a :class:`~nlayer.checkpoint.Checkpoint` saves that epoch), ``fit`` returns.
  Stopping at the epoch boundary keeps the run exactly resumable; the cost is that an
  epoch in progress is completed (not abandoned) before the stop.
- A second signal means "stop now": it raises ``KeyboardInterrupt`` at once, except
  while a file is being written atomically (inside :func:`deferred`), where it waits
  until the write is complete. So no signal ever leaves a torn or half-renamed file.
- On exit the previous handlers are restored; with ``ignore_after_stop=True`` (what the
  CLI uses) a process that was told to stop ignores further signals instead, so a late
  Ctrl-C cannot kill it while it reports and exits.

Python delivers signals to the main thread only, so ``GracefulInterrupt`` must be
entered in the main thread (``ConfigError`` otherwise).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from .errors import ConfigError
from .training import Callback, Trainer

_depth = 0                        # > 0 while an atomic write is in progress
_pending: list[int] = []          # "stop now" signals that arrived during a write


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold back a "stop now" signal until the block (an atomic file write) completes."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending:
            signum = _pending.pop()
            _pending.clear()
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} received during a file write (deferred)")


class GracefulInterrupt(Callback):
    """A context manager and training callback turning SIGINT/SIGTERM into a clean stop.

    Attributes:
        signum: the first signal received (None if none).
        epoch: epochs completed when training stopped (``trainer.epoch``), or None.
    """

    def __init__(
        self, signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM), ignore_after_stop: bool = False
    ) -> None:
        self.signals = tuple(signals)
        self.ignore_after_stop = ignore_after_stop
        self.signum: int | None = None
        self.count = 0
        self.trainer: Trainer | None = None
        self._previous: dict[int, Any] = {}

    @property
    def interrupted(self) -> bool:
        return self.signum is not None

    @property
    def epoch(self) -> int | None:
        return None if self.trainer is None else self.trainer.epoch

    @property
    def signal_name(self) -> str:
        return "" if self.signum is None else signal.Signals(self.signum).name

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is not threading.main_thread():
            raise ConfigError("GracefulInterrupt must be used in the main thread (Python delivers signals there)")
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        stopping = self.ignore_after_stop and (self.interrupted or exc[0] is KeyboardInterrupt)
        for s, handler in self._previous.items():
            signal.signal(s, signal.SIG_IGN if stopping else handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
            if self.trainer is not None:
                self.trainer.stop_training = True
            return
        if _depth > 0:
            _pending.append(signum)
            return
        raise KeyboardInterrupt(f"{signal.Signals(signum).name} received twice; stopping now")

    def on_train_begin(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if self.signum is not None:
            trainer.stop_training = True

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.signum is not None:
            trainer.stop_training = True
