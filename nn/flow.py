"""Gradient flow through an MLP: each layer's activations on a batch (numpy, read from the
parameters' .data, no graph built), its dead and saturated units, and per-layer statistics of
the weights' gradients and updates, which `fit(..., flow=True)` records at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_core import OPS

from .layers import ACTIVATIONS, MLP, Layer


def _array_forward(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The activation `name` on a numpy array: its op record run on the array (its array
    forward, with the record's defaults: leaky_relu's slope 0.01), so nn writes no second
    copy of it."""
    if name == "linear":
        return lambda z: z
    op, defaults = _RECORDS[name], _RECORDS[name].defaults
    return lambda z: np.asarray(op(z, *defaults), dtype=float)


def _array_slope(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """act'(z) on arrays: the op record's own partial rule, run on (act(z), z)."""
    if name == "linear":
        return lambda z, a: np.ones_like(z)
    op = _RECORDS[name]
    rule, defaults = op.partials[0], op.defaults
    if type(rule) is float:
        return lambda z, a: np.full_like(z, rule)
    return lambda z, a: np.broadcast_to(np.asarray(rule(a, z, *defaults), dtype=float),
                                        z.shape)


_RECORDS = {op.name: op for op in OPS}
# Each activation of nn.ACTIVATIONS on numpy arrays, read from its op record, so that a
# batch's activations cost a few matrix products instead of a graph.
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    name: _array_forward(name) for name in ACTIVATIONS}
SLOPES = {name: _array_slope(name) for name in ACTIVATIONS}

# Activations whose derivative is 0 on a whole half-line: a unit that stays there for every
# sample passes no gradient to its weights, so no gradient step can bring it back.
DYING = ("relu",)
# Bounded activations: near a bound the derivative vanishes (σ' = σ(1−σ), tanh' = 1 − tanh²).
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# Within 1% of the range from a bound, σ' < 0.01 and tanh' < 0.04: 4% of their peaks at 0.
SATURATION_MARGIN = 0.01

Network = MLP | Layer


def network_layers(model: Any, who: str = "gradient flow") -> list[Layer]:
    """The layers of an nn.MLP, or [layer] for one nn.Layer; TypeError for anything else."""
    if isinstance(model, MLP):
        return list(model.layers)
    if isinstance(model, Layer):
        return [model]
    raise TypeError(f"{who} works on an nn.MLP or one nn.Layer (weighted sums of its inputs, "
                    f"layer after layer), got {type(model).__name__}: {model!r}")


def as_batch(x: Any, nin: int) -> np.ndarray:
    """x as a float array of shape (n, nin): one input vector becomes a batch of one."""
    batch = np.asarray(x, dtype=float)
    if batch.ndim == 1:
        batch = batch.reshape(1, -1)
    if batch.ndim != 2 or batch.shape[1] != nin or batch.shape[0] == 0:
        raise ValueError(f"inputs must be one vector of {nin} numbers or a batch of shape "
                         f"(n, {nin}), got shape {np.shape(x)}")
    if not np.isfinite(batch).all():
        raise ValueError("inputs must be finite numbers")
    return batch


def _weights(layer: Layer) -> np.ndarray:
    return np.array([[w.data for w in n.w] for n in layer.neurons])


def _biases(layer: Layer) -> np.ndarray:
    return np.array([n.b.data for n in layer.neurons])


def _weight_grads(layer: Layer) -> np.ndarray:
    return np.array([[w.grad for w in n.w] for n in layer.neurons], dtype=float)


def _activation(layer: Layer) -> str:
    return layer.neurons[0].activation


def _forward(layers: Sequence[Layer], weights: Sequence[np.ndarray],
             biases: Sequence[np.ndarray], X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    out, a = [], X
    for layer, W, b in zip(layers, weights, biases):
        z = a @ W.T + b
        a = NUMPY_ACTIVATIONS[_activation(layer)](z)
        out.append((z, a))
    return out


def forward_layers(model: Network, X: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's (z, a) on the rows of X: z = a₋₁Wᵀ + b, a = act(z), with a₋₁ = X first."""
    layers = network_layers(model)
    return _forward(layers, [_weights(layer) for layer in layers],
                    [_biases(layer) for layer in layers], as_batch(X, layers[0].nin))


def _slope(activation: str, z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return SLOPES[activation](z, NUMPY_ACTIVATIONS[activation](z))


def _dead(activation: str, z: np.ndarray) -> np.ndarray:
    """Units of a dying activation (relu) whose slope act'(z) is 0 on every row: the data
    sends no gradient to their weights (relu'(0) = 0: a unit sitting at 0 passes nothing)."""
    if activation not in DYING:
        return np.zeros(z.shape[1], dtype=bool)
    return np.asarray((_slope(activation, z) == 0.0).all(axis=0))


def activation_slopes(model: Network, X: Any) -> list[np.ndarray]:
    """Per layer, each unit's mean activation slope act'(z) over the rows of X: the factor by
    which the unit passes ∂L/∂activation back to its weighted sum (0 on every row: dead)."""
    layers = network_layers(model)
    return [SLOPES[_activation(layer)](z, a).mean(axis=0)
            for layer, (z, a) in zip(layers, forward_layers(model, X))]


def _saturated(activation: str, z: np.ndarray, margin: float) -> np.ndarray:
    """Units of a bounded activation whose slope act'(z) is below 4m(1 − m) of its peak
    act'(0) on more than half of the rows: for σ and tanh alike, exactly the rows where the
    activation lies within m·range of a bound."""
    if activation not in BOUNDS:
        return np.zeros(z.shape[1], dtype=bool)
    peak = float(_slope(activation, np.zeros((1, 1)))[0, 0])
    small = _slope(activation, z) < peak * 4.0 * margin * (1.0 - margin)
    return np.asarray(small.mean(axis=0) > 0.5)


def dead_units(model: Network, X: Any) -> list[np.ndarray]:
    """Per layer, which units are dead on X: relu with z ≤ 0 on every row, so ∂L/∂w = 0."""
    layers = network_layers(model)
    return [_dead(_activation(layer), z)
            for layer, (z, _) in zip(layers, forward_layers(model, X))]


def saturated_units(model: Network, X: Any, margin: float = SATURATION_MARGIN
                    ) -> list[np.ndarray]:
    """Per layer, which units are saturated on X: σ or tanh within margin·range of a bound on
    more than half of the rows, where act' ≈ 0."""
    layers = network_layers(model)
    return [_saturated(_activation(layer), z, margin)
            for layer, (z, _) in zip(layers, forward_layers(model, X))]


@dataclass(frozen=True)
class LayerFlow:
    """One layer at one step: mean and max |∂L/∂w| over its weights (biases left out), the
    fractions of its units dead and saturated on the batch, and the step's ‖Δw‖/‖w‖."""

    grad_mean: float
    grad_max: float
    dead: float
    saturated: float
    update_ratio: float = math.nan  # nan where no update was made


def _layer_flows(layers: Sequence[Layer], weights: Sequence[np.ndarray],
                 biases: Sequence[np.ndarray], X: np.ndarray) -> list[LayerFlow]:
    flows = []
    for layer, (z, a) in zip(layers, _forward(layers, weights, biases, X)):
        g = np.abs(_weight_grads(layer))
        activation = _activation(layer)
        flows.append(LayerFlow(grad_mean=float(g.mean()), grad_max=float(g.max()),
                               dead=float(_dead(activation, z).mean()),
                               saturated=float(_saturated(activation, z,
                                                          SATURATION_MARGIN).mean())))
    return flows


def has_gradients(model: Network) -> bool:
    """Whether any weight or bias has a non-zero grad, i.e. some backward() has reached it."""
    return any(p.grad != 0.0 for p in model.parameters())


def gradient_flow(model: Network, X: Any) -> list[LayerFlow]:
    """Per layer, the statistics of the grads the last backward() left, units judged on X."""
    layers = network_layers(model)
    if not has_gradients(model):
        raise ValueError(f"{model!r} has no gradients yet (every grad is 0): run backward() "
                         f"on a loss first, or train with fit(..., flow=True)")
    return _layer_flows(layers, [_weights(layer) for layer in layers],
                        [_biases(layer) for layer in layers], as_batch(X, layers[0].nin))


class FlowRecorder:
    """Per-step gradient flow for `fit`: `before_step(X)` between backward and the optimizer's
    step reads grads, activations and weights; `after_step()` adds ‖w_after − w‖ / ‖w‖."""

    def __init__(self, model: Any) -> None:
        self.layers = network_layers(model, "fit(..., flow=True)")
        self._weights: list[np.ndarray] = []
        self._flows: list[LayerFlow] = []

    def before_step(self, X: Any) -> None:
        """Record the grads, dead and saturated units of the batch X, and the weights."""
        self._weights = [_weights(layer) for layer in self.layers]
        # A diverging run's numbers may overflow here: its statistics become inf, with no
        # warning per step; the engine raises on the next forward pass anyway.
        with np.errstate(over="ignore", invalid="ignore"):
            self._flows = _layer_flows(self.layers, self._weights,
                                       [_biases(layer) for layer in self.layers],
                                       as_batch(X, self.layers[0].nin))

    def after_step(self) -> tuple[LayerFlow, ...]:
        """The step's statistics, each layer's update ratio ‖Δw‖/‖w‖ measured now."""
        flows = []
        for layer, before, flow in zip(self.layers, self._weights, self._flows):
            with np.errstate(over="ignore", invalid="ignore"):  # as in before_step
                norm = float(np.linalg.norm(before))
                change = float(np.linalg.norm(_weights(layer) - before))
            ratio = change / norm if norm > 0.0 else math.nan
            flows.append(LayerFlow(flow.grad_mean, flow.grad_max, flow.dead, flow.saturated,
                                   ratio))
        return tuple(flows)
