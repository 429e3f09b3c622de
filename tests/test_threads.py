"""Element-wise work split over threads gives bit for bit the results of the unsplit work,
and the thread setting is validated."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

import nlayer
from nlayer import _threads, optimizers
from nlayer.errors import ConfigError

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam"]


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    before = nlayer.get_num_threads()
    yield
    nlayer.set_num_threads(before)


def _run_steps(name: str, theta: np.ndarray, grads: list[np.ndarray]) -> tuple[np.ndarray, dict]:
    opt = optimizers.make_optimizer(name, 0.01)
    W = theta.copy()
    opt.bind([W])
    for dW in grads:
        opt.step([W], [dW])
    return W, {k: v[0].copy() for k, v in opt.state.items()}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("threads", [2, 3])
def test_split_update_is_bit_identical_to_the_whole_array_update(name, threads, monkeypatch):
    rng = np.random.default_rng(0)
    n = 5 * optimizers.MIN_PIECE + 12_345                     # pieces and blocks of unequal length
    theta = rng.standard_normal(n, dtype=np.float32)
    grads = [rng.standard_normal(n, dtype=np.float32) for _ in range(3)]
    monkeypatch.setattr(optimizers, "BLOCK", 10**12)          # one NumPy call per formula line
    nlayer.set_num_threads(1)
    W_whole, state_whole = _run_steps(name, theta, grads)
    monkeypatch.setattr(optimizers, "BLOCK", 2**15)
    nlayer.set_num_threads(threads)
    assert len(_threads.chunks(n, optimizers.MIN_PIECE)) == threads
    W_split, state_split = _run_steps(name, theta, grads)
    assert W_split.tobytes() == W_whole.tobytes()
    for key in state_whole:
        assert state_split[key].tobytes() == state_whole[key].tobytes()


def test_fit_gives_identical_weights_with_one_or_several_threads():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((96, 512)).astype(np.float32)
    y = rng.integers(0, 10, 96)
    weights = []
    for threads in (1, 2, 4):
        nlayer.set_num_threads(threads)
        net = nlayer.Network([512, 256, 10], seed=0)        # 133,898 parameters: split in 2 pieces
        assert net.flat()[0].size >= 2 * optimizers.MIN_PIECE
        net.fit(X, y, epochs=2, batch_size=32, optimizer="adam", seed=0)
        weights.append(net.flat()[0].tobytes())
    assert weights[0] == weights[1] == weights[2]


def test_an_error_in_a_worker_thread_reaches_the_caller():
    nlayer.set_num_threads(2)

    def piece(j: int) -> None:
        if j == 1:
            raise ValueError("piece 1 failed")

    with pytest.raises(ValueError, match="piece 1 failed"):
        _threads.run_pieces(piece, [(0,), (1,)])
    done = []
    _threads.run_pieces(lambda j: done.append(j), [(0,), (1,)])  # the pool still works afterwards
    assert sorted(done) == [0, 1]


def test_worker_threads_use_the_callers_numpy_error_state():
    nlayer.set_num_threads(2)
    big = np.full(8, 3e38, dtype=np.float32)

    def piece(j: int) -> None:
        np.multiply(big, 10.0, out=np.empty_like(big))           # overflows

    with np.errstate(over="ignore"):
        _threads.run_pieces(piece, [(0,), (1,)])             # silent in both threads
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        _threads.run_pieces(piece, [(0,), (1,)])


def test_two_trainings_in_parallel_threads_both_finish_correctly():
    nlayer.set_num_threads(2)
    rng = np.random.default_rng(2)
    n = 4 * optimizers.MIN_PIECE
    theta = rng.standard_normal(n, dtype=np.float32)
    grads = [rng.standard_normal(n, dtype=np.float32) for _ in range(20)]
    expected, _ = _run_steps("adam", theta, grads)
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(_run_steps("adam", theta, grads)[0]))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r.tobytes() == expected.tobytes() for r in results)


def test_chunks_cover_the_range_in_at_most_num_threads_pieces():
    nlayer.set_num_threads(3)
    assert _threads.chunks(10, 4) == [(0, 5), (5, 10)]
    assert _threads.chunks(3, 4) == [(0, 3)]
    pieces = _threads.chunks(1_000_003, 1000)
    assert len(pieces) == 3 and pieces[0][0] == 0 and pieces[-1][1] == 1_000_003
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True, 1000])
def test_set_num_threads_refuses_anything_but_a_whole_number_from_1(bad):
    with pytest.raises(ConfigError, match="number of threads"):
        nlayer.set_num_threads(bad)


def test_set_num_threads_none_restores_the_default():
    nlayer.set_num_threads(7)
    assert nlayer.get_num_threads() == 7
    nlayer.set_num_threads(None)
    assert 1 <= nlayer.get_num_threads() <= _threads.MAX_DEFAULT_THREADS
