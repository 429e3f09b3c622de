"""Resumable ``nlayer train`` runs: the stored options, ``--resume RUN_DIR``, and what
an interrupted or diverged run says about its checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .._atomic import atomic_write_bytes
from ..errors import ConfigError, ModelFormatError
from .options import train_defaults

CHECKPOINT = "checkpoint.safetensors"
TRAIN_ARGS = "train_args.json"
_MAY_CHANGE_ON_RESUME = ("epochs", "checkpoint_every", "quiet", "force", "out", "resume", "run", "command")
_NOT_STORED = ("run", "command", "resume", "force")


def save_train_args(out: Path, args: argparse.Namespace) -> None:
    """RUN_DIR/train_args.json: the options ``--resume`` reuses."""
    saved = {k: v for k, v in vars(args).items() if k not in _NOT_STORED}
    atomic_write_bytes(out / TRAIN_ARGS, (json.dumps(saved, indent=2) + "\n").encode())


def resume_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options of the run in ``--resume RUN_DIR``; an option given now with another
    value than the run's is refused, naming it (--epochs, --checkpoint-every and --quiet may change)."""
    run = Path(args.resume)
    try:
        stored = json.loads((run / TRAIN_ARGS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--resume {run}: no {TRAIN_ARGS} there; only a run trained with --checkpoint-every "
                          "can be resumed") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: {exc}") from None
    defaults = train_defaults()
    if not isinstance(stored, dict) or set(stored) - set(defaults):
        raise ConfigError(f"--resume {run}: {TRAIN_ARGS} is not an nlayer train record")
    diffs = [f"--{k.replace('_', '-')}: the run used {stored.get(k)!r}, this command gives {v!r}"
             for k, v in vars(args).items()
             if k not in _MAY_CHANGE_ON_RESUME and v != defaults.get(k) and v != stored.get(k)]
    if args.out is not None and Path(args.out) != run:
        diffs.append(f"--out: the run folder is {run}, this command gives {args.out}")
    if diffs:
        raise ConfigError(f"cannot resume {run} with other options: " + "; ".join(diffs))
    merged = {**defaults, **stored, "out": str(run), "resume": str(run), "force": True, "quiet": args.quiet,
              "run": args.run, "command": args.command}
    if args.epochs != defaults["epochs"]:
        merged["epochs"] = args.epochs
    if args.checkpoint_every is not None:
        merged["checkpoint_every"] = args.checkpoint_every
    if merged.get("checkpoint_every") is None:                # its range: check_train_args, next
        raise ConfigError(f"--checkpoint-every must be a whole number of epochs >= 1; got {merged['checkpoint_every']}")
    return argparse.Namespace(**merged)


def _saved_epoch(out: Path) -> int | None:
    """The epoch in RUN_DIR/checkpoint.safetensors, or None before the first checkpoint."""
    from ..checkpoint import load_checkpoint

    try:
        return load_checkpoint(out / CHECKPOINT).epoch
    except ModelFormatError:
        return None


def interrupted_message(out: Path, args: argparse.Namespace, epoch: int | None) -> str:
    """The one line printed on Ctrl-C / SIGTERM: where training stopped and how to resume."""
    if not args.checkpoint_every:
        at = f" at epoch {epoch}" if epoch is not None else ""
        return f"interrupted{at}; nothing was saved (add --checkpoint-every N to make a run resumable)"
    saved = _saved_epoch(out) or 0       # 0: stopped before the first checkpoint
    return f"interrupted at epoch {saved}; resume with: nlayer train --resume {out}"


def checkpoint_note(out: Path) -> str:
    """Appended to a divergence message: which checkpoint is left, and its epoch."""
    epoch = _saved_epoch(out)
    if epoch is None:
        return "; no checkpoint was written before it diverged"
    return f"; the last good checkpoint, {out / CHECKPOINT}, holds epoch {epoch}"
