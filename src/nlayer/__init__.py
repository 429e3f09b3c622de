"""nlayer: N-layer fully connected networks, forward and back propagation by hand in NumPy.

    import nlayer
    X, y = nlayer.datasets.spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)
    net = nlayer.Network([2, 100, 3], activation="relu", output="softmax", seed=0)
    history = net.fit(X, y, epochs=100, optimizer="sgd", lr=1.0, l2=1e-3, seed=0)
    report = nlayer.gradient_check(net, X[:20], y[:20])
    nlayer.save(net, "model.safetensors"); net2 = nlayer.load("model.safetensors")
    print("\n".join(nlayer.explain([2, 4, 3], batch=300)))   # the lecture's equations, with shapes

The command line (``nlayer train``, ``predict``, ``evaluate``, ``gradcheck``, ``explain``)
is ``nlayer.cli``; the progress bar and plots it uses are ``nlayer.progress`` and ``nlayer.plots``.
"""

from __future__ import annotations

from . import data, datasets, errors
from .explain import explain
from .gradient_check import GradientCheckReport, ParameterCheck, gradient_check
from .io import load, save
from .layers import Dense
from .network import Network
from .optimizers import SGD, Adam, Momentum, Nesterov, Optimizer
from .schedules import Cosine, Schedule, StepDecay
from .training import Callback, History, Trainer

__version__ = "0.1.0"

__all__ = [
    "Adam",
    "Callback",
    "Cosine",
    "Dense",
    "GradientCheckReport",
    "History",
    "Momentum",
    "Nesterov",
    "Network",
    "Optimizer",
    "ParameterCheck",
    "SGD",
    "Schedule",
    "StepDecay",
    "Trainer",
    "__version__",
    "data",
    "datasets",
    "errors",
    "explain",
    "gradient_check",
    "load",
    "save",
]
