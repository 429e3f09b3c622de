"""A progress bar for training: one tick per epoch, showing loss, accuracy and the
validation metrics as they come (tqdm, imported only when a bar is created).

    net.fit(X, y, epochs=200, callbacks=[ProgressBar(total=200)])
"""

from __future__ import annotations

import sys
from typing import IO, Any

from .training import Callback, Trainer

_SHORT = {"loss": "loss", "accuracy": "acc", "val_loss": "val_loss", "val_accuracy": "val_acc"}


def format_logs(logs: dict[str, float]) -> dict[str, str]:
    """The metrics a bar shows, by short name, with 4 significant digits (lr is left out)."""
    return {short: f"{logs[key]:.4g}" for key, short in _SHORT.items() if key in logs}


class ProgressBar(Callback):
    """A tqdm bar over epochs ``trainer.epoch .. total``.

    Args:
        total: the epoch training stops after (``fit``'s ``epochs``).
        file: where the bar is drawn (stderr by default, so stdout stays clean for data).
        disable: draw nothing (``--quiet``).
    """

    def __init__(self, total: int, file: IO[str] | None = None, disable: bool = False, desc: str = "train") -> None:
        self.total = int(total)
        self.file = file
        self.disable = disable
        self.desc = desc
        self.bar: Any = None

    def on_train_begin(self, trainer: Trainer) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total, initial=trainer.epoch, desc=self.desc, unit="epoch",
            file=self.file if self.file is not None else sys.stderr,
            disable=self.disable, dynamic_ncols=True, leave=True,
        )

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix(format_logs(logs), refresh=False)
            self.bar.update(1)

    def on_train_end(self, trainer: Trainer) -> None:
        self.close()

    def close(self) -> None:
        """Close the bar (safe to call twice; the CLI calls it when training is interrupted)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
