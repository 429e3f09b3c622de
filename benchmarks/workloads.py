"""The benchmark's workloads (issue 5) and their synthetic data.

Each workload fixes the architecture, batch size, optimizer and number of samples; every
framework gets the same float32 arrays. FLOP counts are the nominal ones of the lecture's
matrix products (bias, activations and updates are not counted):

    training, per sample and layer l:  forward 2 n_{l-1} n_l, dW 2 n_{l-1} n_l,
                                       dA 2 n_{l-1} n_l (not for the first layer)
    inference, per sample and layer l: 2 n_{l-1} n_l
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    key: str                    # "a" .. "f"
    title: str
    sizes: tuple[int, ...]
    batch_size: int             # rows per step (n_samples for full batch)
    optimizer: str              # "sgd" or "adam"
    lr: float
    n_samples: int
    epochs: int = 1             # passes over the data per timed run
    inference: bool = False
    note: str = ""

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.n_samples

    @property
    def steps(self) -> int:
        """Optimizer steps per timed run (the last batch of an epoch may be smaller)."""
        return self.epochs * -(-self.n_samples // self.batch_size)

    def flops(self) -> float:
        """Nominal floating-point operations of one timed run (matrix products only)."""
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        forward = sum(2 * a * b for a, b in pairs)
        if self.inference:
            return float(self.n_samples * forward)
        backward = forward + sum(2 * a * b for a, b in pairs[1:])   # dW for all, dA from layer 2
        return float(self.epochs * self.n_samples * (forward + backward))

    def label(self) -> str:
        arch = "-".join(str(n) for n in self.sizes)
        return f"({self.key}) {arch} {self.title}"


def workloads(c_samples: int = 20_000) -> list[Workload]:
    """The six workloads of issue 5. (c) uses ``c_samples`` rows (stated in the output)."""
    mnist = (784, 256, 128, 10)
    return [
        Workload("a", "batch 128, SGD", mnist, 128, "sgd", 0.1, 60_000),
        Workload("b", "batch 1024, SGD", mnist, 1024, "sgd", 0.1, 60_000),
        Workload("c", "batch 256, SGD", (784, 1024, 1024, 10), 256, "sgd", 0.1, c_samples,
                 note=f"{c_samples:,} of 60,000 rows to keep the run short" if c_samples < 60_000 else ""),
        Workload("d", "spiral, full batch, 1,000 steps", (2, 100, 3), 300, "sgd", 1.0, 300, epochs=1000),
        Workload("e", "inference, rows/s", mnist, 60_000, "sgd", 0.1, 60_000, inference=True),
        Workload("f", "batch 128, Adam", mnist, 128, "adam", 0.001, 60_000),
    ]


def make_data(w: Workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X float32 (n, n_in) C-contiguous, y int64 (n,)) for a workload.

    Spiral for (d); otherwise a learnable synthetic set: one Gaussian center per class plus
    unit noise, so SGD at lr 0.1 trains without diverging.
    """
    if w.sizes[0] == 2:
        import nlayer

        return nlayer.datasets.spiral(n_per_class=w.n_samples // 3, seed=seed)
    rng = np.random.default_rng(seed)
    k, d = w.sizes[-1], w.sizes[0]
    y = rng.integers(0, k, size=w.n_samples)
    centers = rng.standard_normal((k, d), dtype=np.float32) * 0.5
    X = rng.standard_normal((w.n_samples, d), dtype=np.float32)
    X += centers[y]
    return np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64)
