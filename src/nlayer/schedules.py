"""Learning-rate schedules: the learning rate for each epoch from the initial one.

A schedule is called once at the start of every epoch (0-based) and its value is set on
the optimizer: ``optimizer.set_epoch_lr(schedule(epoch, optimizer.lr0))`` (``lr0`` stays, so
a run continued with the same optimizer resumes the schedule where it was).

- ``constant``: ``lr0``
- ``step``:     ``lr0 * gamma ** (epoch // step_size)``                      (step decay)
- ``cosine``:   ``lr_min + (lr0 - lr_min) * (1 + cos(pi * epoch / epochs)) / 2``  (Loshchilov & Hutter)
"""

from __future__ import annotations

import math
from typing import Any

from ._checks import non_negative, real, whole
from .errors import ConfigError


class Schedule:
    name = "constant"

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    name = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.5) -> None:
        self.step_size = whole("step_size", step_size, 1)
        self.gamma = real("gamma", gamma, "in (0, 1]", lambda v: 0 < v <= 1)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step_size)


class Cosine(Schedule):
    """Anneal from ``lr0`` to ``lr_min`` along half a cosine over ``epochs`` epochs."""

    name = "cosine"

    def __init__(self, epochs: int, lr_min: float = 0.0) -> None:
        self.epochs = whole("epochs", epochs, 1)
        self.lr_min = non_negative("lr_min", lr_min)

    def __call__(self, epoch: int, lr0: float) -> float:
        t = min(epoch, self.epochs) / self.epochs
        return self.lr_min + (lr0 - self.lr_min) * 0.5 * (1.0 + math.cos(math.pi * t))


SCHEDULES: dict[str, type[Schedule]] = {"constant": Schedule, "step": StepDecay, "cosine": Cosine}


def make_schedule(schedule: str | Schedule | None, epochs: int, **options: Any) -> Schedule:
    """A schedule from a name (``constant``, ``step``, ``cosine``), an instance, or None."""
    if isinstance(schedule, Schedule):
        return schedule
    if schedule is None or schedule == "constant":
        return Schedule()
    if schedule == "step":
        return StepDecay(**options)
    if schedule == "cosine":
        return Cosine(epochs, **options)
    raise ConfigError(f"unknown schedule {schedule!r}; choose one of: {', '.join(SCHEDULES)}")
