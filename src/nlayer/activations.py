"""Hidden-layer activations g and their derivatives, written in place.

Each activation has two functions working on preallocated buffers of shape (m, n):

- ``forward(Z, A)`` writes ``A = g(Z)``;
- ``backward(dA, Z, A, dZ, mask)`` writes ``dZ = dA * g'(Z)`` (step 4 of the lecture),
  using ``A`` where the derivative is cheaper in terms of the output, and the boolean
  buffer ``mask`` for the piecewise ones.

No function allocates an array of the batch's size, and scalars are Python floats so a
float32 buffer stays float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

Array = np.ndarray

LEAKY_RELU_SLOPE = 0.01


def relu_forward(Z: Array, A: Array) -> None:
    np.maximum(Z, 0.0, out=A)                       # A = max(0, Z)


def relu_backward(dA: Array, Z: Array, A: Array, dZ: Array, mask: Array) -> None:
    np.greater(Z, 0.0, out=mask)                    # [Z > 0]
    np.multiply(dA, mask, out=dZ)                   # dZ = dA * [Z > 0]   (the notes' "override")


def leaky_relu_forward(Z: Array, A: Array) -> None:
    np.multiply(Z, LEAKY_RELU_SLOPE, out=A)         # a Z
    np.maximum(Z, A, out=A)                         # A = max(Z, a Z)   (a < 1)


def leaky_relu_backward(dA: Array, Z: Array, A: Array, dZ: Array, mask: Array) -> None:
    np.greater(Z, 0.0, out=mask)                    # [Z > 0]
    np.multiply(dA, LEAKY_RELU_SLOPE, out=dZ)       # dZ = a dA           where Z <= 0
    np.copyto(dZ, dA, where=mask)                   # dZ = dA             where Z > 0


def tanh_forward(Z: Array, A: Array) -> None:
    np.tanh(Z, out=A)                               # A = tanh(Z)


def tanh_backward(dA: Array, Z: Array, A: Array, dZ: Array, mask: Array) -> None:
    np.square(A, out=dZ)                            # A^2
    np.subtract(1.0, dZ, out=dZ)                    # g'(Z) = 1 - A^2
    np.multiply(dZ, dA, out=dZ)                     # dZ = dA * (1 - A^2)


def sigmoid_forward(Z: Array, A: Array) -> None:
    # sigma(Z) = (1 + tanh(Z / 2)) / 2: one bounded formula, no exp overflow for any Z.
    np.multiply(Z, 0.5, out=A)                      # Z / 2
    np.tanh(A, out=A)                               # tanh(Z / 2)
    np.multiply(A, 0.5, out=A)
    np.add(A, 0.5, out=A)                           # A = (1 + tanh(Z / 2)) / 2


def sigmoid_backward(dA: Array, Z: Array, A: Array, dZ: Array, mask: Array) -> None:
    np.subtract(1.0, A, out=dZ)                     # 1 - A
    np.multiply(dZ, A, out=dZ)                      # g'(Z) = A (1 - A)
    np.multiply(dZ, dA, out=dZ)                     # dZ = dA * A (1 - A)


def identity_forward(Z: Array, A: Array) -> None:
    np.copyto(A, Z)                                 # A = Z


def identity_backward(dA: Array, Z: Array, A: Array, dZ: Array, mask: Array) -> None:
    np.copyto(dZ, dA)                               # dZ = dA


@dataclass(frozen=True)
class Activation:
    """A named activation: in-place ``forward`` and ``backward`` plus facts about it."""

    name: str
    forward: Callable[[Array, Array], None]
    backward: Callable[[Array, Array, Array, Array, Array], None]
    needs_mask: bool        # backward uses the boolean buffer
    has_kink: bool          # derivative jumps at Z = 0 (gradient checks must avoid it)
    in_place: bool = False  # forward may write A over Z and backward dZ over dA (g' from A)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", relu_forward, relu_backward, needs_mask=True, has_kink=True, in_place=True),
        Activation("leaky_relu", leaky_relu_forward, leaky_relu_backward, needs_mask=True, has_kink=True),
        Activation("tanh", tanh_forward, tanh_backward, needs_mask=False, has_kink=False),
        Activation("sigmoid", sigmoid_forward, sigmoid_backward, needs_mask=False, has_kink=False),
        Activation("identity", identity_forward, identity_backward, needs_mask=False, has_kink=False,
                   in_place=True),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ``ConfigError`` listing the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        valid = ", ".join(ACTIVATIONS)
        raise ConfigError(f"unknown activation {name!r}; choose one of: {valid}") from None
