#!/usr/bin/env python3
"""Regenerate docs/images/*.png, the README's pictures, from the default run.

    python scripts/make_readme_figures.py

runs ``nlayer train --quiet`` (the default settings, so the pictures are what a new user
gets) in a temporary folder and copies loss.png and decision_boundary.png here.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from nlayer import cli  # noqa: E402


def main() -> int:
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        status = cli.main(["train", "--quiet", "--out", str(run)])
        if status != 0:
            return status
        for name in ("loss.png", "decision_boundary.png"):
            shutil.copyfile(run / name, images / name)
            print(f"wrote {images / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
