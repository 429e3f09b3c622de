from __future__ import annotations

import math

import pytest

import nlayer
from nlayer import Cosine, StepDecay
from nlayer.errors import ConfigError
from nlayer.schedules import make_schedule


def test_step_decay_multiplies_by_gamma_every_step_size_epochs():
    s = StepDecay(step_size=3, gamma=0.5)
    assert [s(e, 1.0) for e in range(7)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_cosine_goes_from_lr0_to_lr_min_along_half_a_cosine():
    s = Cosine(epochs=10, lr_min=0.1)
    assert s(0, 1.0) == 1.0
    assert s(5, 1.0) == pytest.approx(0.55)
    assert s(10, 1.0) == pytest.approx(0.1)
    assert s(3, 1.0) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.3)))


def test_fit_applies_the_schedule_each_epoch(spiral):
    X, y = spiral
    net = nlayer.Network([2, 8, 3], seed=0)
    history = net.fit(X, y, epochs=5, lr=0.8, schedule=StepDecay(step_size=2, gamma=0.5), seed=0)
    assert history.lr == [0.8, 0.8, 0.4, 0.4, 0.2]


def test_unknown_schedule_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="constant, step, cosine"):
        make_schedule("exp", 10)
