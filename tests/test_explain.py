"""`nlayer.explain`: the lecture's equations with shapes, checked against the real arrays."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nlayer
from nlayer.errors import ConfigError
from nlayer.explain import equations, explain


def shapes_of(line: str) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in s.split(",") if v.strip()) for s in re.findall(r"\(([\d, ]+)\)", line)]


def test_the_notes_network_gives_the_lecture_lines():
    lines = [" ".join(line.split()) for line in explain([2, 4, 3], batch=300)]
    for expected in (
        "Z1 = X W1 + b1 (300, 2) @ (2, 4) + (4,) -> (300, 4)",
        "A1 = relu(Z1) (300, 4)",
        "A2 = softmax(Z2) (300, 3)",
        "dZ2 = (A2 - Y) / m (300, 3) - (300, 3) -> (300, 3)",
        "dW2 = A1^T dZ2 (4, 300) @ (300, 3) -> (4, 3)",
        "db2 = sum_i dZ2 (300, 3) -> (3,)",
        "dA1 = dZ2 W2^T (300, 3) @ (3, 4) -> (300, 4)",
        "dZ1 = dA1 * [Z1 > 0] (300, 4) * (300, 4) -> (300, 4)",
        "dW1 = X^T dZ1 (2, 300) @ (300, 4) -> (2, 4)",
        "db1 = sum_i dZ1 (300, 4) -> (4,)",
    ):
        assert expected in lines


def test_one_over_m_appears_once_and_there_is_no_dA0():
    eqs = equations([5, 7, 6, 4, 2], batch=10, activation="tanh")
    backward = [e.equation for e in eqs if e.phase == "backward"]
    assert sum("/ m" in e for e in backward) == 1 and backward[0] == "dZ4 = (A4 - Y) / m"
    assert not any(e.startswith("dA0") for e in backward)
    assert [e.split(" =")[0] for e in backward] == [
        "dZ4", "dW4", "db4", "dA3", "dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1",
    ]


@pytest.mark.parametrize("sizes, activation, output", [
    ([2, 4, 3], "relu", "softmax"), ([3, 5, 6, 1], "sigmoid", "sigmoid"), ([4, 2, 2], "identity", "identity"),
])
def test_every_printed_result_shape_is_the_shape_the_network_computes(sizes, activation, output):
    m = 7
    net = nlayer.Network(sizes, activation=activation, output=output, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, sizes[0]))
    y = rng.integers(0, sizes[-1], m) if output == "softmax" else rng.integers(0, 2, (m, sizes[-1])).astype(float)
    net.loss_and_gradients(X, y)
    actual = {}
    for l, layer in enumerate(net.layers, start=1):
        actual.update({f"Z{l}": layer.Z.shape, f"A{l}": layer.A.shape, f"dW{l}": layer.dW.shape,
                       f"db{l}": layer.db.shape, f"dZ{l}": layer.dZ.shape, f"dA{l}": layer.dA.shape})
    for eq in equations(sizes, batch=m, activation=activation, output=output):
        name = eq.equation.split(" =")[0]
        if name in actual:
            assert shapes_of(eq.shapes)[-1] == actual[name], eq


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": [3]}, "sizes"), ({"sizes": [2, 0, 3]}, "at least one unit"), ({"batch": 0}, "batch"),
    ({"activation": "swish"}, "relu"), ({"output": "softmax", "sizes": [2, 1]}, "softmax"),
])
def test_bad_architecture_is_a_config_error(kwargs, match):
    args = {"sizes": [2, 4, 3], **kwargs}
    with pytest.raises(ConfigError, match=match):
        explain(**args)
