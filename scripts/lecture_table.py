#!/usr/bin/env python3
"""Print the README's "from the lecture to the code" table, with line numbers found now.

Each row pairs an equation of the lecture (../shared/seed/EQUATIONS.md) with the comment
that marks the line implementing it; the line number is found by searching for that
comment, so the table stays right when code moves. Usage:

    python scripts/lecture_table.py            # print the markdown table
    python scripts/lecture_table.py --check    # exit 1 if README.md's table is out of date
    python scripts/lecture_table.py --write    # rewrite the table in README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "nlayer"
BEGIN, END = "<!-- lecture-table:begin -->", "<!-- lecture-table:end -->"

# (the lecture's equation, file, function, the comment on the implementing line)
ROWS: list[tuple[str, str, str, str]] = [
    ("`A0 = X`", "network.py", "Network.forward", "# A[0] = X"),
    ("`Z[l] = A[l-1] W[l] + b[l]`", "layers.py", "Dense.linear", "# Z = A_prev W + b"),
    ("`A1 = max(0, Z1)` (ReLU)", "activations.py", "relu_forward", "# A = max(0, Z)"),
    ("`A[l] = g(Z[l])`, every hidden layer", "network.py", "Network.forward", "# A[l] = g(A[l-1] W[l] + b[l])"),
    ("`A2 = softmax(Z2)`", "losses.py", "SoftmaxCrossEntropy.forward", "# A = softmax(Z)"),
    ("`J = -(1/m) sum Y log A2`", "losses.py", "SoftmaxCrossEntropy.loss",
     "# J = (1/m) sum_i (lse_i - Y_i Z_i)"),
    ("`dZ2 = (A2 - Y) / m` (1/m once)", "losses.py", "delta", "# dZ_L = (A_L - Y) / m"),
    ("1) `dW2 = A1^T dZ2`, 5) `dW1 = X^T dZ1`", "layers.py", "Dense.backward_linear", "# dW = A_prev^T dZ"),
    ("2) `db2 = sum dZ2`, 6) `db1 = sum dZ1`", "layers.py", "Dense.backward_linear", "# db = 1^T dZ = sum_i dZ"),
    ("3) `dA1 = dZ2 W2^T`", "layers.py", "Dense.backward_linear", "# dA_prev = dZ W^T"),
    ("4) `dZ1 = dA1 * [Z1 > 0]`", "activations.py", "relu_backward", "# dZ = dA * [Z > 0]"),
    ("steps 1-4 for each layer, from L down", "network.py", "Network.backward", "# dW[l], db[l], dA[l-1]"),
    ("steps 5-6, no `dA0`", "network.py", "Network.backward", "# dW[1], db[1] (no dA[0])"),
    ("L2: `dW += l2 W`", "network.py", "Network.add_l2", "# dW += l2 W"),
    ("gradient descent: `W -= lr dW`", "optimizers.py", "SGD._update_folded", "# W -= lr dW"),
]


def find_line(file: str, marker: str) -> int:
    """The 1-based number of the first line of ``file`` holding ``marker`` (``LookupError`` if none does)."""
    lines = (PKG / file).read_text().splitlines()
    hits = [i for i, line in enumerate(lines, start=1) if marker in line]
    if not hits:
        raise LookupError(f"{file}: no line contains {marker!r}")
    return hits[0]


def table() -> str:
    """The markdown table, line numbers as of now."""
    out = ["| lecture | function | line and its comment |", "|---|---|---|"]
    for equation, file, func, marker in ROWS:
        line = find_line(file, marker)
        comment = marker.lstrip("# ")
        out.append(f"| {equation} | `{func}` | [`{file}:{line}`](src/nlayer/{file}#L{line}) `{comment}` |")
    return "\n".join(out)


def readme_table(readme: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[start:end].strip()


def main(argv: list[str]) -> int:
    readme_path = ROOT / "README.md"
    if "--check" in argv:
        if readme_table(readme_path.read_text()) != table():
            print("README.md's lecture table is out of date: run python scripts/lecture_table.py --write",
                  file=sys.stderr)
            return 1
        return 0
    if "--write" in argv:
        text = readme_path.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        readme_path.write_text(text[:start] + "\n" + table() + "\n" + text[end:])
        return 0
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
