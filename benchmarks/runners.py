"""One timed run of a workload per framework: nlayer, PyTorch, scikit-learn, GEMM floor.

Every runner does its setup (a fresh model, tensors, buffers) untimed and returns the
seconds of the timed part only:

- nlayer through its public path: ``net.fit(X, y, epochs=, batch_size=, optimizer=, lr=, seed=)``
  and ``net.predict_proba(X)``;
- PyTorch as a user writes it: ``nn.Sequential`` of ``Linear``/``ReLU``, ``CrossEntropyLoss``,
  ``torch.optim.SGD``/``Adam``, tensors built beforehand, batches by index from a ``randperm``;
- scikit-learn's ``MLPClassifier.fit`` with ``max_iter`` = epochs and everything that would
  differ switched off (``alpha=0``, ``momentum=0``, no Nesterov, no early stopping, no tol);
- the GEMM floor: the same matrix products of the same steps, alone, into preallocated outputs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
from workloads import Workload

import nlayer
from nlayer.network import INFERENCE_CHUNK

Runner = Callable[[Workload, np.ndarray, np.ndarray, int], float]


def run_nlayer(w: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> float:
    net = nlayer.Network(list(w.sizes), seed=seed)
    if w.inference:
        t0 = time.perf_counter()
        net.predict_proba(X)
        return time.perf_counter() - t0
    batch = None if w.full_batch else w.batch_size
    t0 = time.perf_counter()
    net.fit(X, y, epochs=w.epochs, batch_size=batch, optimizer=w.optimizer, lr=w.lr, seed=seed)
    return time.perf_counter() - t0


def run_torch(w: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> float:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for l, (n_in, n_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:]), start=1):
        layers.append(nn.Linear(n_in, n_out))
        if l < len(w.sizes) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    if w.inference:
        t0 = time.perf_counter()
        with torch.inference_mode():
            torch.softmax(model(Xt), dim=1)
        return time.perf_counter() - t0
    criterion = nn.CrossEntropyLoss()
    if w.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=w.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=w.lr)
    n, bs = X.shape[0], w.batch_size
    t0 = time.perf_counter()
    for _ in range(w.epochs):
        if w.full_batch:
            batches = [(Xt, yt)]
        else:
            perm = torch.randperm(n)
            batches = ((Xt[idx], yt[idx]) for idx in (perm[i : i + bs] for i in range(0, n, bs)))
        for xb, yb in batches:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def run_sklearn(w: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=w.sizes[1:-1], activation="relu", solver=w.optimizer, alpha=0.0,
        batch_size=w.batch_size, learning_rate_init=w.lr, max_iter=w.epochs, shuffle=True,
        random_state=seed, tol=0.0, n_iter_no_change=w.epochs + 1, momentum=0.0,
        nesterovs_momentum=False, early_stopping=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if w.inference:
            clf.set_params(batch_size=256)
            clf.partial_fit(X[:256], y[:256], classes=np.arange(w.sizes[-1]))
            t0 = time.perf_counter()
            clf.predict_proba(X)
            return time.perf_counter() - t0
        t0 = time.perf_counter()
        clf.fit(X, y)
        return time.perf_counter() - t0


def run_gemm_floor(w: Workload, X: np.ndarray, y: np.ndarray, seed: int) -> float:
    """The lecture's matrix products of the same steps, timed alone (no bias, activation,
    loss, gather or update): forward ``Z = A W``, backward ``dW = A^T dZ`` and ``dA = dZ W^T``.
    Each step multiplies its own rows of X (contiguous slices: the gather is not a product),
    so the floor reads the data from memory as the real run must, not one batch kept in cache."""
    rng = np.random.default_rng(seed)
    pairs = list(zip(w.sizes[:-1], w.sizes[1:]))
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in pairs]
    dWs = [np.empty_like(W) for W in Ws]
    n = X.shape[0]
    rows = INFERENCE_CHUNK if w.inference else w.batch_size
    starts = [start for _ in range(w.epochs) for start in range(0, n, rows)]
    As = [X[:0]] + [np.empty((rows, b), dtype=np.float32) for _, b in pairs]
    dZs = [np.zeros((rows, b), dtype=np.float32) for _, b in pairs]
    t0 = time.perf_counter()
    for start in starts:
        As[0] = X[start : start + rows]                                 # this step's rows
        m = As[0].shape[0]
        for l, W in enumerate(Ws):
            np.matmul(As[l][:m], W, out=As[l + 1][:m])                 # Z = A_prev W
        if w.inference:
            continue
        for l in range(len(Ws) - 1, -1, -1):
            np.matmul(As[l][:m].T, dZs[l][:m], out=dWs[l])             # dW = A_prev^T dZ
            if l:
                np.matmul(dZs[l][:m], Ws[l].T, out=dZs[l - 1][:m])     # dA_prev = dZ W^T
    return time.perf_counter() - t0


def peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-product ceiling: GFLOP/s of NumPy's best ``n x n x n``
    product (the BLAS threads as pinned), best of ``repeats`` after one warm-up.

    A large square product is where a BLAS comes closest to the CPU's peak, so no
    implementation of a workload's products runs faster than this on the same threads.
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    C = np.empty((n, n), dtype=np.float32)
    np.matmul(A, B, out=C)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(A, B, out=C)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def available() -> dict[str, Runner]:
    """The runners whose framework is importable; prints a notice for each one skipped."""
    runners: dict[str, Runner] = {"nlayer": run_nlayer}
    try:
        import torch  # noqa: F401
    except ImportError:
        print("notice: PyTorch is not installed; skipping it (pip install 'nlayer[torch]')")
    else:
        runners["pytorch"] = run_torch
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("notice: scikit-learn is not installed; skipping MLPClassifier (pip install 'nlayer[bench]')")
    else:
        runners["sklearn"] = run_sklearn
    runners["gemm_floor"] = run_gemm_floor
    return runners
