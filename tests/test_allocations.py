"""Steady-state training allocates nothing per step (checked with tracemalloc, not timed).

NumPy reports its array buffers to tracemalloc, so an array created inside a training
step (a temporary ``l2 * W``, a fresh activation, a buffered ``np.take``) shows up as a
rise of the traced peak above the memory held at the start of the epoch. A callback reads
the traced memory at every epoch end; after warm-up epochs, each epoch may only add a few
Python objects (the History's floats, the logs dict), far less than one batch of
activations.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nlayer

SLACK = 4096 + 8 * np.getbufsize()  # History floats, the logs dict, one NumPy iterator buffer


class TraceMemory(nlayer.training.Callback):
    """Records (current, peak) traced bytes at each epoch end, then resets the peak."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, int]] = []

    def on_epoch_end(self, trainer, epoch, logs) -> None:
        self.samples.append(tracemalloc.get_traced_memory())
        tracemalloc.reset_peak()


def _per_epoch_growth_and_spike(fit) -> tuple[list[int], list[int]]:
    trace = TraceMemory()
    tracemalloc.start()
    try:
        fit(trace)
    finally:
        tracemalloc.stop()
    s = trace.samples[2:]                       # epochs 0-1: warm-up (buffers, caches)
    growth = [cur - prev_cur for (prev_cur, _), (cur, _) in zip(s, s[1:])]
    spike = [peak - prev_cur for (prev_cur, _), (_, peak) in zip(s, s[1:])]
    return growth, spike


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_full_batch_steps_allocate_nothing(optimizer, l2):
    # full batch: one step per epoch, so anything allocated per step shows per epoch.
    X, y = nlayer.datasets.spiral()                    # (300, 2): activations (300, 256) = 300 kB
    net = nlayer.Network([2, 256, 128, 3], seed=0)     # 33,664 weights: an l2 W temporary is 135 kB
    growth, spike = _per_epoch_growth_and_spike(
        lambda cb: net.fit(X, y, epochs=12, optimizer=optimizer, lr=0.01, l2=l2, callbacks=[cb])
    )
    assert max(growth) <= SLACK, growth
    assert max(spike) <= SLACK, f"a step allocated up to {max(spike)} bytes: {spike}"


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mini_batch_steps_allocate_nothing_beyond_the_shuffle(optimizer):
    # 8 steps of 128 rows per epoch; one batch of X is 128 * 256 * 4 = 128 kB, one hidden
    # activation 128 * 256 * 4 = 128 kB: a per-step temporary of either would exceed SLACK.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1024, 256)).astype(np.float32)
    y = rng.integers(0, 4, 1024)
    net = nlayer.Network([256, 256, 32, 4], seed=0)
    growth, spike = _per_epoch_growth_and_spike(
        lambda cb: net.fit(X, y, epochs=10, batch_size=128, optimizer=optimizer, lr=0.01, seed=0, callbacks=[cb])
    )
    assert max(growth) <= SLACK, growth
    assert max(spike) <= SLACK, f"an epoch of 8 steps allocated up to {max(spike)} bytes: {spike}"


def test_the_check_sees_a_per_step_temporary(monkeypatch):
    # the guard itself: an l2 term written as `dW += l2 * W` allocates a theta-sized array
    # per step, which the measurement must catch.
    def add_l2_with_temporary(self, l2, scale=1.0):
        n = self.n_weights
        self._dtheta[:n] += scale * l2 * self._theta[:n]
        return 0.5 * l2 * float(np.vdot(self._theta[:n], self._theta[:n]))

    monkeypatch.setattr(nlayer.Network, "add_l2", add_l2_with_temporary)
    X, y = nlayer.datasets.spiral()
    net = nlayer.Network([2, 256, 128, 3], seed=0)     # 33,664 weights: 135 kB
    _, spike = _per_epoch_growth_and_spike(lambda cb: net.fit(X, y, epochs=6, l2=1e-3, callbacks=[cb]))
    assert max(spike) >= 4 * net.n_weights > SLACK
