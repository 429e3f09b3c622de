"""Pictures of a training run: loss and accuracy curves, and the decision regions of a
network with two inputs. matplotlib is imported here only, with the Agg backend through
``matplotlib.figure.Figure`` (no pyplot, no display, no global state), and every PNG is
written atomically. Titles and class labels are shown as written (:func:`_plain`): never
as mathtext (``$0-$50k``), and a file name that is not UTF-8 still makes a title.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ._atomic import atomic_write_bytes
from .errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .network import Network
    from .training import History

DPI = 100
GRID = 300  # points per axis of the decision-region grid
F = TypeVar("F", bound=Callable[..., Any])


def _no_library_deprecations(fn: F) -> F:
    """Silence deprecation warnings raised inside matplotlib and its dependencies while
    plotting (e.g. matplotlib < 3.11 calling pyparsing 3.3's deprecated ``parseString``):
    they concern those libraries, not the user, and would break ``-W error`` and the CLI's
    one-line output. Other warnings still surface."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _plain(text: object) -> str:
    """``text`` as valid Unicode for matplotlib: the undecodable bytes of a file name, which
    Python keeps as lone surrogates (``os.fsdecode``), become U+FFFD. Texts made of it are
    drawn with ``parse_math=False``, so ``$`` is a dollar sign, not mathtext."""
    s = str(text)
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:                   # a surrogate that no undecodable byte became
        raw = s.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def _save(fig: Figure, path: str | Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())


@_no_library_deprecations
def plot_history(history: History, path: str | Path, title: str = "") -> None:
    """``loss.png``: loss (left) and accuracy (right, classifiers only) per epoch, train vs validation."""
    from matplotlib.figure import Figure

    has_acc = bool(history.accuracy)
    fig = Figure(figsize=(10 if has_acc else 5.5, 4), layout="constrained")
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
    panels = [("loss", history.loss, history.val_loss)]
    if has_acc:
        panels.append(("accuracy", history.accuracy, history.val_accuracy))
    for ax, (name, train, val) in zip(axes, panels):
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, label=f"train {name}", color="tab:blue")
        if val:
            ax.plot(epochs, val, label=f"validation {name}", color="tab:orange")
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch + 1, color="grey", linestyle=":", label="best epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if name == "loss" and len(train) and min(train) > 0:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(_plain(title), parse_math=False)
    _save(fig, path)


@_no_library_deprecations
def _grid_bounds(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plotted area, (2,) lows and highs: the points' range padded by 10 % on every side,
    the padding cut where the grid would leave what the network can take (its dtype's range,
    and for a standardised network, values within that range of its mean)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    edge = 0.99 * float(np.finfo(net.dtype).max)
    mean = np.zeros(2) if net.input_mean is None else net.input_mean.astype(np.float64)
    with np.errstate(over="ignore"):                 # beyond float64: inf, then cut to the edge
        pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
        low_ok, high_ok = np.maximum(-edge, mean - edge), np.minimum(edge, mean + edge)
        lo = np.minimum(lo, np.maximum(lo - pad, low_ok))
        hi = np.maximum(hi, np.minimum(hi + pad, high_ok))
    return lo, hi


def _unit(lo: float, hi: float) -> float:
    """1, or for an axis reaching beyond 1e100 the power of ten of its largest value."""
    top = max(abs(float(lo)), abs(float(hi)))
    return 1.0 if top <= 1e100 else float(10.0 ** math.floor(math.log10(top)))


def plot_decision_boundary(
    net: Network, X: np.ndarray, y: np.ndarray, path: str | Path,
    classes: Sequence[Any] | None = None, title: str = "",
) -> None:
    """``decision_boundary.png`` for a network with 2 inputs: the learned regions (class
    colours for classifiers, predicted value for regression) with the points on top.

    Args:
        X: (n, 2) points in the original (unstandardised) feature space.
        y: (n,) class indices 0..k-1 for classifiers, target values for regression.
    """
    from matplotlib.figure import Figure

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or net.n_inputs != 2:
        raise DataError(f"a decision boundary needs 2-D inputs; got X of shape {X.shape}")
    lo, hi = _grid_bounds(net, X)
    t = np.linspace(0.0, 1.0, GRID)
    g0, g1 = np.meshgrid(lo[0] * (1 - t) + hi[0] * t,            # lo + (hi - lo) t, which could overflow
                         lo[1] * (1 - t) + hi[1] * t)
    A = net.predict_proba(np.c_[g0.ravel(), g1.ravel()])
    # matplotlib lays out axes in float64 and fails on spans near its limit: such an axis is
    # drawn in units of a power of ten (named in its label)
    unit = np.array([_unit(lo[0], hi[0]), _unit(lo[1], hi[1])])
    X, g0, g1 = X / unit, g0 / unit[0], g1 / unit[1]
    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.subplots()
    if net.is_classifier:
        k = max(A.shape[1], 2)
        region = (A.argmax(axis=1) if A.shape[1] > 1 else (A[:, 0] > 0.5)).astype(np.int64)
        cmap = _class_cmap(k)
        ax.contourf(g0, g1, region.reshape(g0.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35)
        labels = classes if classes is not None else list(range(k))
        for c in range(k):
            rows = np.asarray(y) == c
            name = _plain(labels[c])                     # matplotlib leaves "_..." labels out of legends
            ax.scatter(X[rows, 0], X[rows, 1], s=14, color=cmap(c), edgecolors="black",
                       linewidths=0.4, label=f" {name}" if name.startswith("_") else name)
        for text in ax.legend(title="class", loc="best", fontsize="small").get_texts():
            text.set_parse_math(False)
    else:
        from matplotlib.colors import Normalize

        values = np.asarray(y, dtype=np.float64)
        norm = Normalize(float(min(values.min(), A.min())), float(max(values.max(), A.max())))
        surface = ax.contourf(g0, g1, A[:, 0].reshape(g0.shape), levels=20, cmap="viridis", norm=norm, alpha=0.6)
        ax.scatter(X[:, 0], X[:, 1], c=values, cmap="viridis", norm=norm, s=14, edgecolors="black", linewidths=0.4)
        fig.colorbar(surface, ax=ax, label="prediction")
    ax.set_xlabel("feature 1" + (f" (x {unit[0]:.0e})" if unit[0] != 1 else ""))
    ax.set_ylabel("feature 2" + (f" (x {unit[1]:.0e})" if unit[1] != 1 else ""))
    ax.set_title(_plain(title or f"decision regions of {net!r}".replace("Network", "network ")), fontsize="small",
                 parse_math=False)
    _save(fig, path)


def _class_cmap(k: int) -> Any:
    from matplotlib.colors import ListedColormap

    base = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
            "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]
    if k <= len(base):
        return ListedColormap(base[:k])
    from matplotlib import colormaps

    hues = np.linspace(0.0, 1.0, k, endpoint=False)              # hsv wraps: 1.0 would repeat 0.0's red
    return ListedColormap(colormaps["hsv"](hues))
