"""Resumable ``nlayer train`` runs: the stored options, ``--resume RUN_DIR``, and what
an interrupted or diverged run says about its checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes
from .._safetensors import brief
from ..errors import ConfigError, ModelFormatError
from .options import check_train_args, given, stored_value, train_actions, train_defaults

CHECKPOINT = "checkpoint.safetensors"
TRAIN_ARGS = "train_args.json"
_MAY_CHANGE_ON_RESUME = ("epochs", "checkpoint_every", "quiet", "force", "out", "resume")
_NOT_STORED = ("run", "command", "resume", "force", "given")
_CHOSEN_FROM_DATA = ("target", "task", "output")     # None in a record: chosen from the data, as the run did
_FIX = "fix it in that file, or delete the run folder and train again"


def save_train_args(out: Path, args: argparse.Namespace) -> None:
    """RUN_DIR/train_args.json: the options ``--resume`` reuses; the data file as an absolute
    path, so the run resumes from any working directory."""
    saved = {k: v for k, v in vars(args).items() if k not in _NOT_STORED}
    saved["data"] = _data_key(args.data)
    atomic_write_bytes(out / TRAIN_ARGS, (json.dumps(saved, indent=2) + "\n").encode())


def _data_key(data: Any) -> Any:
    """``--data`` as compared on resume: ``spiral``, or the file's resolved absolute path
    (a relative path, as old run folders store it, is taken from the working directory)."""
    return str(Path(data).resolve()) if isinstance(data, str) and data != "spiral" else data


def _same(key: str, run_value: Any, value: Any) -> bool:
    if key == "data":
        return bool(_data_key(run_value) == _data_key(value))
    return bool(run_value == value)


def resume_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options of the run in ``--resume RUN_DIR``. An option typed now (even at its
    default value) with another value than the run's is refused, naming it; --epochs,
    --checkpoint-every and --quiet may change."""
    run = Path(args.resume)
    stored = _read_record(run)
    defaults = train_defaults()
    stored = {**defaults, **_checked_record(run / TRAIN_ARGS, stored, defaults)}
    typed = given(args)
    moved = _moved(stored["data"], args.data if "data" in typed else None)
    if "data" not in typed and stored["data"] != "spiral" and not Path(stored["data"]).exists():
        raise ConfigError(f"--resume {run}: the run's data file {stored['data']} is gone; give --data with its "
                          "new location (its content is checked against the checkpoint's)")
    changed = [k for k in defaults if k in typed and k not in _MAY_CHANGE_ON_RESUME
               and not _same(k, stored[k], getattr(args, k)) and not (k == "data" and moved)]
    chosen = [k for k in changed if k in _CHOSEN_FROM_DATA and stored[k] is None]
    if chosen and "data" not in changed:       # the run's own choice, made from the same data (else --data differs)
        data = args.data if "data" in typed else stored["data"]
        run_chose = _chosen_from_data(data, stored["target"], stored["task"])
        changed = [k for k in changed if k not in chosen or getattr(args, k) != run_chose[k][0]]
    else:
        run_chose = {}
    diffs = [f"--{k.replace('_', '-')}: the run used {run_chose[k][1] if k in run_chose else _used(stored[k])}, "
             f"this command gives {getattr(args, k)!r}" for k in changed if k not in chosen or run_chose]
    if "out" in typed and Path(args.out).resolve() != run.resolve():
        diffs.append(f"--out: the run folder is {run}, this command gives {args.out}")
    if diffs:
        raise ConfigError(f"cannot resume {run} with other options: " + "; ".join(diffs))
    merged = {**stored, "out": str(run), "resume": str(run), "force": True, "quiet": args.quiet,
              "run": args.run, "command": args.command}
    for k in typed & {"epochs", "checkpoint_every", "data"}:    # --data: the same file, as the user wrote it
        merged[k] = getattr(args, k)
    merged["given"] = typed                    # options.given(): a new --epochs is recorded (cmd_train)
    return argparse.Namespace(**merged)


def _moved(run_data: Any, data: Any) -> bool:
    """Whether ``--data`` names another file than the run's, both files (not spiral): the
    run's file moved or copied elsewhere. Allowed on resume: ``checkpoint.fit`` then compares
    the data's sha256 with the checkpoint's and refuses other content."""
    return data is not None and "spiral" not in (run_data, data) and not _same("data", run_data, data)


def _used(value: Any) -> str:
    """A value of the record as a difference names it: ``0.01``, ``[16]``, or ``the default (none)``."""
    return "the default (none)" if value is None else repr(value)


def _chosen_from_data(data: str, target: str | None, task: str | None) -> dict[str, tuple[str, str]]:
    """What a run recorded as None (``--target``, ``--task``, ``--output`` not typed) chose from
    its data, by option: (the value, how a difference names it), as ``train.choose_task`` chooses."""
    from ..data import infer_task
    from .common import load_dataset

    table = load_dataset(data, target)
    name = table.target_name
    if data == "spiral":
        column = f"the default ({name!r})"
    elif data.lower().endswith(".npz"):
        column = f"the default (the array {name!r})"
    else:
        column = f"the default (the last column, {name!r})"
    task = task or infer_task(table.y)
    output = "softmax" if task == "classify" else "identity"
    return {"target": (name, column), "task": (task, f"the default (inferred from the data, {task!r})"),
            "output": (output, f"the default ({output!r}, to {task})")}


def _read_record(run: Path) -> Any:
    """RUN_DIR/train_args.json as JSON (UTF-8, a byte order mark allowed: Windows Notepad
    writes one); ``ConfigError`` saying why it cannot be read, and the fix."""
    path = run / TRAIN_ARGS
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"--resume {run}: no {TRAIN_ARGS} there; only a run trained with --checkpoint-every "
                          "can be resumed") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: it is not UTF-8 text; {_FIX}") from None
    except OSError as exc:
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: {exc.strerror or exc}") from None
    if not text.strip():
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: the file is empty; {_FIX}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:                 # RecursionError: [[[[...]]]]
        why = f"not valid JSON ({exc})" if isinstance(exc, ValueError) else "nested too deeply"
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: {why}; {_FIX}") from None


def _checked_record(path: Path, record: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """The options stored in ``path``, each one a value its ``nlayer train`` option could have
    produced (type and choices from the parser itself, so every option is covered) and in range;
    ``ConfigError`` naming the file, the key, the value and the fix. A hand-edited file must
    not reach training."""
    actions = train_actions()
    if not isinstance(record, dict):
        raise ConfigError(f"{path} is not an nlayer train record (a JSON object of options); "
                          "delete the run folder and train again")
    unknown = sorted(set(record) - set(actions))
    if unknown:
        raise ConfigError(f"{path} is not an nlayer train record: unknown key(s) "
                          f"{', '.join(_shown(k) for k in unknown[:5])}{', ...' if len(unknown) > 5 else ''}; {_FIX}")
    checked = {}
    for key, value in record.items():
        try:
            checked[key] = stored_value(actions[key], value, nullable=key != "checkpoint_every")
        except ValueError as exc:
            raise ConfigError(f"{path}: {_shown(key)} is {_shown(value)}, but {exc}; {_FIX}") from None
    if "checkpoint_every" not in record:          # a record is written only for a run that checkpoints
        raise ConfigError(f'{path}: "checkpoint_every" is missing, but a resumable run records it: '
                          f"--checkpoint-every takes a whole number of epochs >= 1; {_FIX}")
    if checked.get("data") == "":
        raise ConfigError(f'{path}: "data" is "", but --data takes spiral or a file name; {_FIX}')
    try:
        check_train_args(argparse.Namespace(**{**defaults, **checked}))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}; {_FIX}") from None
    return checked


def _shown(value: Any) -> str:
    """A value from the file as JSON spells it, cut short (Python's spelling if nested too deep)."""
    try:
        text = json.dumps(value)
    except RecursionError:
        text = brief(value)
    return text if len(text) <= 60 else text[:57] + "..."


def resumed_epoch(out: Path, args: argparse.Namespace) -> int:
    """The epoch a resumed run continues from: its checkpoint's (0 before the first one);
    ``ConfigError`` if ``args.epochs`` is behind it, saying what to type."""
    epoch = saved_epoch(out) or 0
    if epoch > args.epochs:
        if "epochs" in given(args):
            raise ConfigError(f"--resume {out}: the checkpoint is already at epoch {epoch}; --epochs {args.epochs} "
                              f"is behind it: give --epochs {epoch} or more")
        raise ConfigError(f"--resume {out}: the checkpoint is already at epoch {epoch}, beyond the {args.epochs} "
                          f"epochs {out / TRAIN_ARGS} holds; resume with --epochs {epoch} or more")
    return epoch


def saved_epoch(out: Path) -> int | None:
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
    saved = saved_epoch(out) or 0       # 0: stopped before the first checkpoint
    return f"interrupted at epoch {saved}; resume with: nlayer train --resume {out}"


def checkpoint_note(out: Path) -> str:
    """Appended to a divergence message: which checkpoint is left, and its epoch."""
    epoch = saved_epoch(out)
    if epoch is None:
        return "; no checkpoint was written before it diverged"
    return f"; the last good checkpoint, {out / CHECKPOINT}, holds epoch {epoch}"
