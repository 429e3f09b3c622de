"""The README stays true: its two commands match CI, its Python example runs, and its
"from the lecture to the code" table points at lines that still hold their equations."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def lecture_table_module():
    spec = importlib.util.spec_from_file_location("lecture_table", ROOT / "scripts" / "lecture_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_opens_with_exactly_two_commands_and_ci_runs_the_test_one():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None and README.index("```bash") < README.index("## ")
    commands = [line for line in first_block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].startswith("python3 -m venv .venv") and commands[0].endswith("nlayer train")
    test_command = commands[1].split(" && ", 2)[2]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci, f"{test_command!r} is not a line of .ci/run"


def test_lecture_table_lines_hold_their_equations():
    rows = re.findall(r"\[`(\w+\.py):(\d+)`\]\(src/nlayer/\1#L\2\) `([^`]+)`", README)
    assert len(rows) >= 12
    for file, line, comment in rows:
        source = (ROOT / "src" / "nlayer" / file).read_text().splitlines()
        assert f"# {comment}" in source[int(line) - 1], f"{file}:{line} no longer holds '{comment}'"


def test_lecture_table_names_the_function_enclosing_each_line():
    mod = lecture_table_module()
    for _, file, func, marker in mod.ROWS:
        lines = (ROOT / "src" / "nlayer" / file).read_text().splitlines()[: mod.find_line(file, marker)]
        enclosing = [m.group(2) for m in (re.match(r"\s*(def|class) (\w+)", s) for s in lines) if m]
        assert enclosing[-1] == func.split(".")[-1], (file, marker, enclosing[-3:])


def test_readme_table_is_what_the_script_prints_now():
    mod = lecture_table_module()
    assert mod.readme_table(README) == mod.table(), "run python scripts/lecture_table.py --write"


def test_readme_python_example_runs(tmp_path):
    code = re.search(r"## The Python API in 20 lines\n\n```python\n(.*?)```", README, re.S)
    assert code is not None and len(code.group(1).splitlines()) <= 20
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, "-W", "error", "-c", code.group(1)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "val_accuracy=0.9" in r.stdout and "dW2 = A1^T dZ2" in r.stdout
    assert (tmp_path / "spiral.safetensors").is_file()


def test_readme_pictures_exist_and_are_pngs():
    for name in re.findall(r"\]\((docs/images/[\w.]+\.png)\)", README):
        assert (ROOT / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
