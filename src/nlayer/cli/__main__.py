"""``python -m nlayer.cli ...``: the same as ``python -m nlayer`` (the ``nlayer`` command)."""

from . import console_main

if __name__ == "__main__":  # pragma: no cover - run as a program, not imported
    console_main()
