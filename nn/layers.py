"""Neuron, Layer and MLP: weighted sums of Values followed by an activation."""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_core import Value

from .module import Module


def _method(name: str) -> Callable[..., Value]:
    """Value's method for an op of the table (made from its record, so mypy cannot see it)."""
    method: Callable[..., Value] = getattr(Value, name)
    return method


# The activation applied to a neuron's weighted sum; "linear" applies none.
ACTIVATIONS: dict[str, Callable[..., Value] | None] = {
    "linear": None,
    "relu": _method("relu"),
    "leaky_relu": _method("leaky_relu"),  # slope 0.01 on the negative side
    "tanh": _method("tanh"),
    "sigmoid": _method("sigmoid"),
}

Seed = int | random.Random | None
Inputs = Sequence[float | Value]


def _rng(seed: Seed) -> random.Random:
    """A Random shared as it is (so layers draw one stream), or a new one seeded with `seed`."""
    if isinstance(seed, random.Random):
        return seed
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"seed must be an int, a random.Random or None, got "
                        f"{type(seed).__name__}: {seed!r}")
    return random.Random(seed)


def _check_count(what: str, n: Any) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, got {n}")
    return int(n)


def _check_activation(name: Any) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return str(name)


def _as_values(x: Inputs, nin: int, who: str) -> list[Value]:
    """The inputs as Values, made once per call rather than once per neuron that reads them."""
    if len(x) != nin:
        raise ValueError(f"{who} takes {nin} inputs, got {len(x)}: {list(x)!r}")
    return [xi if isinstance(xi, Value) else Value(xi) for xi in x]


def _points(x: Any) -> list[Any] | None:
    """The points of x if x is a batch — a 2-D array (a row per point) or a list or tuple of
    points — or None if x is one point."""
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            return list(x)
        if x.ndim > 2:
            raise ValueError(f"a batch is a 2-D array with one row per point, got an array of "
                             f"shape {x.shape}")
        return None
    if isinstance(x, (list, tuple)) and any(_is_sequence(p) for p in x):
        return list(x)
    return None


def _is_sequence(x: Any) -> bool:
    """A list, a tuple or an array of at least one dimension: a point, where a batch holds one."""
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim >= 1)


def _check_batch(points: list[Any], nin: int, who: str) -> None:
    """Every point a sequence of nin inputs, or an error naming the sizes that differ."""
    for i, point in enumerate(points):
        if not _is_sequence(point) or np.ndim(point) != 1:
            raise TypeError(f"point {i} of the batch is {type(point).__name__} {point!r}, not a "
                            f"list of {nin} inputs (a batch is a list of points or a 2-D array)")
    widths = [len(point) for point in points]
    for i, width in enumerate(widths):
        if width != widths[0]:
            raise ValueError(f"ragged batch: point 0 has {widths[0]} inputs but point {i} has "
                             f"{width}; {who} takes {nin} per point")
    if widths and widths[0] != nin:
        raise ValueError(f"{who} takes {nin} inputs per point, but the batch's {len(points)} "
                         f"points have {widths[0]}")


class _PointModule(Module):
    """A Module whose input is one point of `nin` numbers. Called on a batch — a 2-D array or a
    list of points — it returns one output per point, as PyTorch's batched forward does."""

    @property
    def nin(self) -> int:
        """How many inputs one point has."""
        raise NotImplementedError

    def __call__(self, x: Any) -> Any:
        """forward(x) for one point x, or [forward(p) for each point p] for a batch x."""
        points = _points(x)
        if points is None:
            return super().__call__(x)
        _check_batch(points, self.nin, repr(self))
        one = super().__call__  # a comprehension is its own scope, where super() has no class
        return [one(point) for point in points]


class Neuron(_PointModule):
    """act(Σᵢ wᵢxᵢ + b), with wᵢ ~ U(−1, 1) and b = 0 at the start (micrograd's initialisation)."""

    def __init__(self, nin: int, activation: str = "relu", seed: Seed = None) -> None:
        nin = _check_count("nin", nin)
        self.activation = _check_activation(activation)
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)

    @property
    def nin(self) -> int:
        """How many inputs the neuron reads."""
        return len(self.w)

    def check_input(self, x: Inputs) -> list[Value]:
        """x as nin Values, made once per call rather than once per neuron that reads them."""
        return _as_values(x, self.nin, repr(self))

    def forward(self, x: Inputs) -> Value:
        """act(w·x + b) for one input vector x of length nin."""
        # One mul and one add node per input and nothing else: the sum starts from b, not from 0.
        out = self.b
        for wi, xi in zip(self.w, x, strict=True):
            out = out + wi * xi
        # Looked up by name, not kept as an attribute: Value's methods are made by a factory,
        # so a stored one would be a local function that pickle cannot name.
        act = ACTIVATIONS[self.activation]
        return out if act is None else act(out)

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(_PointModule):
    """nout neurons reading the same nin inputs; returns a list of nout Values."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", seed: Seed = None) -> None:
        nin, nout = _check_count("nin", nin), _check_count("nout", nout)
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    @property
    def nin(self) -> int:
        """How many inputs each neuron reads."""
        return self.neurons[0].nin

    def check_input(self, x: Inputs) -> list[Value]:
        """x as nin Values, made once for all the layer's neurons."""
        return _as_values(x, self.nin, repr(self))

    def forward(self, x: Inputs) -> list[Value]:
        """[act(wⱼ·x + bⱼ) for each neuron j]."""
        return [n.forward(x) for n in self.neurons]

    def __repr__(self) -> str:
        return f"Layer({self.nin} → {len(self.neurons)}, {self.neurons[0].activation})"


class MLP(_PointModule):
    """Layers in sequence: nin → sizes[0] → … → sizes[-1]; hidden layers use `activation`, the
    last one `output_activation` (linear by default, so outputs are unbounded scores)."""

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", seed: Seed = None) -> None:
        nin = _check_count("nin", nin)
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
            raise ValueError(f"sizes must be a non-empty list of layer widths, got {sizes!r}")
        widths = [nin] + [_check_count(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        _check_activation(activation)
        _check_activation(output_activation)
        rng = _rng(seed)
        last = len(sizes) - 1
        self.layers = [Layer(widths[i], widths[i + 1],
                             output_activation if i == last else activation, rng)
                       for i in range(len(sizes))]

    @property
    def nin(self) -> int:
        """How many inputs the first layer reads."""
        return self.layers[0].nin

    def check_input(self, x: Inputs) -> list[Value]:
        """x as Values, one per input of the first layer."""
        return _as_values(x, self.layers[0].nin, repr(self))

    def forward(self, x: Inputs) -> Value | list[Value]:
        """The output Value for one input vector, or a list of Values if the last layer has
        more than one neuron."""
        out = self.layers[0].forward(x)
        for layer in self.layers[1:]:
            out = layer.forward(out)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        shape = " → ".join(str(n) for n in [self.layers[0].nin]
                           + [len(layer.neurons) for layer in self.layers])
        # Both activations always: what a printed model does should not depend on knowing the
        # defaults. A single layer has no hidden activation to show.
        hidden = (f", activation={self.layers[0].neurons[0].activation!r}"
                  if len(self.layers) > 1 else "")
        output = self.layers[-1].neurons[0].activation
        return f"MLP({shape}{hidden}, output_activation={output!r})"
