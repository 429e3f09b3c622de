"""nlayer's exceptions: every error a user can cause is one of these.

Each is a subclass of the built-in exception a Python user would expect
(``ValueError`` or ``TypeError``), so ``except ValueError`` keeps working, and of
:class:`NLayerError`, so ``except nlayer.errors.NLayerError`` catches them all.
Messages name the offending file, row, column, key or parameter and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "NLayerError",
    "ConfigError",
    "DataError",
    "ModelFormatError",
    "DivergenceError",
    "NotFittedError",
]


class NLayerError(Exception):
    """Base class of every error nlayer raises on purpose."""


class ConfigError(NLayerError, ValueError):
    """A bad hyper-parameter or option: unknown name, out-of-range value, bad layer sizes."""


class DataError(NLayerError, ValueError):
    """Input data that cannot be used: wrong shape, non-numeric, non-finite, bad labels, bad file."""


class ModelFormatError(NLayerError, ValueError):
    """A model or checkpoint file that is not a valid nlayer file. Nothing in it was executed."""


class DivergenceError(NLayerError, ValueError):
    """Training produced a non-finite loss; the weights were restored to the last finite state."""

    def __init__(self, message: str, epoch: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch


class NotFittedError(NLayerError, ValueError, AttributeError):
    """A model was used for prediction before it was trained or loaded."""
