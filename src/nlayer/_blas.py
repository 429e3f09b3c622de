"""``C = alpha op(A) op(B) + beta C`` in one call to the BLAS NumPy itself uses.

``np.matmul`` always writes ``C = A B`` (BLAS with ``beta = 0``). SGD's step
``W -= lr dW`` with ``dW = A_prev^T dZ`` is one such product (``alpha = -1``, ``beta = 1``;
``fit`` has already folded ``lr`` into ``dZ``), and momentum's ``v = mu v - lr dW`` another
(``beta = mu``): the product adds straight into ``W`` or ``v``, instead of being written to
``dW`` and read back by separate passes over the parameters (see ``Dense._descend``).

NumPy does not expose ``beta``, so this module calls ``?gemm`` through ``ctypes`` in the
OpenBLAS that NumPy's wheels bundle: the library already loaded in this process, with
NumPy's own thread pool (a second BLAS, such as SciPy's, would bring a second pool that
fights the first for the cores). It is found only when it is NumPy's wheel-bundled
OpenBLAS with 64-bit integers (``scipy_cblas_sgemm64_`` from NumPy 2, ``cblas_sgemm64_``
before), already loaded, and when a product it computes matches ``np.matmul``; anywhere
else (NumPy built against MKL or Accelerate, Windows) :data:`plan` is None and nlayer uses
NumPy alone. ``NLAYER_FUSED_BLAS=0`` in the environment switches it off.

The same library's ``?axpby`` (``y = alpha x + beta y``, one pass where NumPy needs two or
three) serves Adam's update (:data:`axpby`): ``m = b1 m + (1 - b1) dW`` and ``W -= lr_t s``.

``plan(alpha, A, B, beta, C)`` checks dtype, layout, shapes and overlap once, so a mistake
raises ``ValueError`` instead of reading or writing out of bounds, and returns a call with
its arguments converted: running it costs what ``np.matmul`` costs in Python (~1 us).
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

Array = np.ndarray
Product = Callable[[], None]                            # runs one planned C = alpha A B + beta C
Planner = Callable[[float, Array, Array, float, Array], Product]
Axpby = Callable[[float, float], None]                  # (alpha, beta): one planned y = alpha x + beta y
AxpbyPlanner = Callable[[Array, Array], Axpby]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112          # CBLAS enum values
_PREFIXES = ("scipy_cblas_", "cblas_")                  # NumPy >= 2 (scipy-openblas64), NumPy 1.22-1.26


def _library() -> tuple[ctypes.CDLL, str] | None:
    """NumPy's bundled OpenBLAS, if it is loaded in this process, and its symbol prefix."""
    if not hasattr(os, "RTLD_NOLOAD"):                  # Windows: not probed, NumPy alone
        return None
    root = Path(np.__file__).parent
    for path in sorted([*root.parent.glob("numpy.libs/*openblas*"), *root.glob(".dylibs/*openblas*")]):
        try:   # RTLD_NOLOAD: only a library this process has already loaded (NumPy's), never a new one
            lib = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        except OSError:
            continue
        for prefix in _PREFIXES:
            if hasattr(lib, f"{prefix}sgemm64_") and hasattr(lib, f"{prefix}dgemm64_"):
                return lib, prefix
    return None


def _operand(X: Array, dtype: np.dtype) -> tuple[int, int]:
    """``(transpose flag, leading dimension)`` of a 2-D operand, C- or F-contiguous."""
    if X.ndim != 2 or X.dtype != dtype:
        raise ValueError(f"gemm operand must be a 2-D {dtype} array; got {X.ndim}-D {X.dtype}")
    if X.flags.c_contiguous:
        return _NO_TRANS, max(1, X.shape[1])
    if X.flags.f_contiguous:
        return _TRANS, max(1, X.shape[0])
    raise ValueError("gemm operand must be C- or F-contiguous (a row-major array or its .T)")


def _bind(lib: ctypes.CDLL, prefix: str) -> Planner:
    i64, vp, i32 = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
    functions = {np.dtype(np.float32): (getattr(lib, f"{prefix}sgemm64_"), ctypes.c_float),
                 np.dtype(np.float64): (getattr(lib, f"{prefix}dgemm64_"), ctypes.c_double)}
    for f, _ in functions.values():
        f.restype = None

    def plan(alpha: float, A: Array, B: Array, beta: float, C: Array) -> Product:
        """A call that computes ``C = alpha A B + beta C`` in place, every time it is called.

        A (M, K), B (K, N), C (M, N), one dtype; A and B may be transposed views (``X.T``)
        of row-major arrays, C must be row-major. Everything is checked and converted here,
        once; the call holds the three arrays, so the memory it points to stays theirs.
        """
        found = functions.get(C.dtype)
        if found is None or C.ndim != 2 or not C.flags.c_contiguous or not C.flags.writeable:
            raise ValueError("gemm output must be a writeable row-major float32 or float64 matrix")
        f, real = found
        ta, lda = _operand(A, C.dtype)
        tb, ldb = _operand(B, C.dtype)
        (M, K), (K2, N) = A.shape, B.shape
        if K2 != K or C.shape != (M, N):
            raise ValueError(f"gemm shapes do not match: {A.shape} @ {B.shape} into {C.shape}")
        if np.may_share_memory(C, A) or np.may_share_memory(C, B):
            raise ValueError("gemm output must not overlap its inputs")
        if M == 0 or N == 0:
            return _nothing
        args = (i32(_ROW_MAJOR), i32(ta), i32(tb), i64(M), i64(N), i64(K), real(alpha),
                vp(A.ctypes.data), i64(lda), vp(B.ctypes.data), i64(ldb), real(beta), vp(C.ctypes.data), i64(N))
        call = functools.partial(f, *args)
        call.arrays = (A, B, C)                         # type: ignore[attr-defined]  # keeps the memory alive
        return call

    return plan


def _nothing() -> None:
    """An empty product (a dimension of 0): nothing to compute."""


def _bind_axpby(lib: ctypes.CDLL, prefix: str) -> AxpbyPlanner:
    i64, vp = ctypes.c_int64, ctypes.c_void_p
    functions = {}
    for dtype, letter, real in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
        f = getattr(lib, f"{prefix}{letter}axpby64_")
        f.argtypes = [i64, real, vp, i64, real, vp, i64]
        f.restype = None
        functions[np.dtype(dtype)] = f

    def plan_axpby(x: Array, y: Array) -> Axpby:
        """A call ``(alpha, beta)`` that computes ``y = alpha x + beta y`` in place.

        x, y (n,): one dtype, contiguous, not overlapping; checked here, once. The scalars
        come with each call (Adam's step size changes every step)."""
        f = functions.get(y.dtype)
        if f is None or x.dtype != y.dtype or x.ndim != 1 or x.shape != y.shape:
            raise ValueError(f"axpby needs two 1-D float32 or float64 arrays of one shape; got {x.shape} "
                             f"{x.dtype} and {y.shape} {y.dtype}")
        if not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable):
            raise ValueError("axpby needs contiguous arrays and a writeable y")
        if np.may_share_memory(x, y):
            raise ValueError("axpby's y must not overlap x")
        n, px, py = x.shape[0], x.ctypes.data, y.ctypes.data

        def call(alpha: float, beta: float) -> None:
            if n:
                f(n, alpha, px, 1, beta, py, 1)

        call.arrays = (x, y)                            # type: ignore[attr-defined]  # keeps the memory alive
        return call

    return plan_axpby


def _verified_axpby(plan_axpby: AxpbyPlanner) -> bool:
    """Whether the bound function computes ``alpha x + beta y`` as NumPy does, in both dtypes."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x, y = rng.standard_normal(37).astype(dtype), rng.standard_normal(37).astype(dtype)
        expected = -2.0 * x + 0.5 * y
        plan_axpby(x, y)(-2.0, 0.5)
        if not np.allclose(y, expected, rtol=1e-5, atol=1e-6):
            return False
    return True


def _verified(plan: Planner) -> bool:
    """Whether the bound function computes what ``np.matmul`` does, in both dtypes and with
    both operands transposed or not."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        A, B = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((7, 3)).astype(dtype)
        C = rng.standard_normal((5, 3)).astype(dtype)
        expected = 0.5 * C - 2.0 * (A.T @ B)
        plan(-2.0, A.T, B, 0.5, C)()
        D = rng.standard_normal((3, 5)).astype(dtype)
        E = np.zeros((7, 3), dtype=dtype)
        plan(1.0, A, D.T, 0.0, E)()
        if not (np.allclose(C, expected, rtol=1e-5, atol=1e-5) and np.allclose(E, A @ D.T, rtol=1e-5, atol=1e-5)):
            return False
    return True


def _load() -> tuple[Planner | None, AxpbyPlanner | None]:
    if os.environ.get("NLAYER_FUSED_BLAS", "1").strip() == "0":
        return None, None
    try:
        found = _library()
    except OSError:
        return None, None
    if found is None:
        return None, None
    planner: Planner | None = None
    axpby_planner: AxpbyPlanner | None = None
    try:
        planner = _bind(*found)
        planner = planner if _verified(planner) else None
    except (OSError, AttributeError, ValueError):
        planner = None
    try:
        axpby_planner = _bind_axpby(*found)
        axpby_planner = axpby_planner if _verified_axpby(axpby_planner) else None
    except (OSError, AttributeError, ValueError):
        axpby_planner = None
    return planner, axpby_planner


plan, axpby = _load()
