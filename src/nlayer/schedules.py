"""Learning-rate schedules: the learning rate for each epoch from the initial one.

A schedule is called once at the start of every epoch (0-based) and its value is set on
the optimizer: ``optimizer.lr = schedule(epoch, lr0)``.

- ``constant``: ``lr0``
- ``step``:     ``lr0 * gamma ** (epoch // step_size)``                      (step decay)
- ``cosine``:   ``lr_min + (lr0 - lr_min) * (1 + cos(pi * epoch / epochs)) / 2``  (Loshchilov & Hutter)
"""

from __future__ import annotations

import math
from typing import Any

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
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ConfigError(f"step_size must be a whole number >= 1; got {step_size!r}")
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma <= 1:
            raise ConfigError(f"gamma must be in (0, 1]; got {gamma!r}")
        self.step_size = step_size
        self.gamma = float(gamma)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step_size)


class Cosine(Schedule):
    """Anneal from ``lr0`` to ``lr_min`` along half a cosine over ``epochs`` epochs."""

    name = "cosine"

    def __init__(self, epochs: int, lr_min: float = 0.0) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"epochs must be a whole number >= 1; got {epochs!r}")
        if isinstance(lr_min, bool) or not isinstance(lr_min, (int, float)) or lr_min < 0:
            raise ConfigError(f"lr_min must be >= 0; got {lr_min!r}")
        self.epochs = epochs
        self.lr_min = float(lr_min)

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
