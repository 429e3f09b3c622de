"""The lecture's equations for a concrete architecture, one line each, with the shape of
every term (``nlayer explain`` prints them).

For ``sizes = [2, 4, 3]`` and a batch of ``m = 300`` (the notes' example)::

    Z1 = X W1 + b1          (300, 2) @ (2, 4) + (4,) -> (300, 4)
    ...
    dZ2 = (A2 - Y) / m      (300, 3) - (300, 3) -> (300, 3)
    dW2 = A1^T dZ2          (4, 300) @ (300, 3) -> (4, 3)

as ``../shared/seed/EQUATIONS.md`` states them: row-major batches, ``1/m`` applied once
at the output gradient ``dZ_L``, every later term a plain sum, and no ``dA0`` (nothing
consumes the gradient of the input). The code that implements each line is in
``network.py``, ``layers.py``, ``losses.py`` and ``activations.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._checks import whole
from .activations import LEAKY_RELU_SLOPE, get_activation
from .losses import check_output_size, get_output
from .network import check_sizes

Shape = tuple[int, ...]

# g'(Z) written out per hidden activation; {Z}, {A}, {dA} are filled in per layer
_DERIVATIVE = {
    "relu": "{dA} * [{Z} > 0]",
    "leaky_relu": "{dA} * ([{Z} > 0] + " + f"{LEAKY_RELU_SLOPE:g}" + " [{Z} <= 0])",
    "tanh": "{dA} * (1 - {A}^2)",
    "sigmoid": "{dA} * {A} (1 - {A})",
    "identity": "{dA}",
}
_LOSS = {
    "softmax": "J = -sum(Y log A{L}) / m",
    "sigmoid": "J = -sum(Y log A{L} + (1-Y) log(1-A{L})) / m",
    "identity": "J = sum((A{L} - Y)^2) / (2m)",
}


@dataclass(frozen=True)
class Equation:
    """One step of forward or back propagation: the equation and its shapes, as text."""

    phase: str          # "forward" or "backward"
    equation: str       # e.g. "dW2 = A1^T dZ2"
    shapes: str         # e.g. "(4, 300) @ (300, 3) -> (4, 3)"

    def format(self, width: int = 28) -> str:
        """``equation`` padded to ``width`` columns, then the shapes."""
        return f"{self.equation:<{width}}   {self.shapes}"

    def __str__(self) -> str:
        return self.format()


def _s(shape: Shape) -> str:
    return str(tuple(shape))


def equations(
    sizes: Sequence[int], batch: int = 300, activation: str = "relu", output: str = "softmax"
) -> list[Equation]:
    """Forward then backward equations of the network ``sizes`` for a batch of ``batch`` rows.

    Raises ``ConfigError`` for bad sizes, a batch below 1, or unknown names.
    """
    n = check_sizes(sizes)
    batch = whole("batch", batch, 1)
    get_activation(activation)
    check_output_size(get_output(output), n[-1])
    m, L = batch, len(n) - 1
    act = ["", "X"] + [f"A{l}" for l in range(1, L)]   # act[l]: the input of layer l (A0 = X)
    out: list[Equation] = [Equation("forward", "A0 = X", _s((m, n[0])))]
    for l in range(1, L + 1):
        prev = act[l]
        out.append(Equation(
            "forward", f"Z{l} = {prev} W{l} + b{l}",
            f"{_s((m, n[l - 1]))} @ {_s((n[l - 1], n[l]))} + {_s((n[l],))} -> {_s((m, n[l]))}",
        ))
        g = output if l == L else activation
        out.append(Equation("forward", f"A{l} = {g}(Z{l})", _s((m, n[l]))))
    out.append(Equation("forward", _LOSS[output].format(L=L), f"{_s((m, n[L]))} -> scalar"))
    out.append(Equation(
        "backward", f"dZ{L} = (A{L} - Y) / m", f"{_s((m, n[L]))} - {_s((m, n[L]))} -> {_s((m, n[L]))}"
    ))
    for l in range(L, 0, -1):
        prev = act[l]
        out.append(Equation(
            "backward", f"dW{l} = {prev}^T dZ{l}", f"{_s((n[l - 1], m))} @ {_s((m, n[l]))} -> {_s((n[l - 1], n[l]))}"
        ))
        out.append(Equation("backward", f"db{l} = sum_i dZ{l}", f"{_s((m, n[l]))} -> {_s((n[l],))}"))
        if l == 1:
            break                                   # no dA0: nothing uses the input's gradient
        out.append(Equation(
            "backward", f"dA{l - 1} = dZ{l} W{l}^T", f"{_s((m, n[l]))} @ {_s((n[l], n[l - 1]))} -> {_s((m, n[l - 1]))}"
        ))
        rhs = _DERIVATIVE[activation].format(dA=f"dA{l - 1}", Z=f"Z{l - 1}", A=f"A{l - 1}")
        mn = _s((m, n[l - 1]))
        shapes = f"{mn} -> {mn}" if activation == "identity" else f"{mn} * {mn} -> {mn}"
        out.append(Equation("backward", f"dZ{l - 1} = {rhs}", shapes))
    return out


def explain(
    sizes: Sequence[int], batch: int = 300, activation: str = "relu", output: str = "softmax"
) -> list[str]:
    """The equations of :func:`equations` as printable lines, under two headings.

    >>> print("\\n".join(explain([2, 4, 3])))  # doctest: +ELLIPSIS
    Forward propagation, m = 300 samples, layers 2-4-3 (relu hidden, softmax output)
    ...
    """
    eqs = equations(sizes, batch, activation, output)
    arch = "-".join(str(int(s)) for s in sizes)
    lines = [f"Forward propagation, m = {batch} samples, layers {arch} ({activation} hidden, {output} output)"]
    width = max(len(e.equation) for e in eqs)
    lines += [f"  {e.format(width)}" for e in eqs if e.phase == "forward"]
    lines.append("Back propagation (1/m applied once, at the output; every later term is a plain sum)")
    lines += [f"  {e.format(width)}" for e in eqs if e.phase == "backward"]
    return lines
