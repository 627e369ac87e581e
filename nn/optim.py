"""Optimizers: SGD with momentum and Adam; their state lives here, keyed by parameter.

`lr` is a number or a schedule: a callable of the step number (0, 1, 2, …) returning the rate.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from autograd_core import Value

Schedule = Callable[[int], float]
LearningRate = float | Schedule


def _check_number(who: str, name: str, x: Any, low: float, high: float = math.inf,
                  high_open: bool = False) -> float:
    """x as a float in [low, high] (or [low, high) when high_open); otherwise a clear error."""
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{who}: {name} must be a number, got {type(x).__name__}: {x!r}")
    x = float(x)
    inside = low <= x < high if high_open else low <= x <= high
    if not inside or math.isnan(x):
        bound = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"{who}: {name} must be in {bound}, got {x!r}")
    return x


def linear_schedule(start: float, end: float, steps: int) -> Schedule:
    """lr(k) = start − (start − end)·k/steps, then `end` from step `steps` on."""
    _check_number("linear_schedule", "start", start, 0.0)
    _check_number("linear_schedule", "end", end, 0.0)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"linear_schedule: steps must be an int ≥ 1, got {steps!r}")

    def lr(k: int) -> float:
        # Written as micrograd's demo writes it (1.0 - 0.9*k/100), so the numbers agree exactly.
        return start - (start - end) * min(k, steps) / steps

    return lr


class Optimizer:
    """Holds the parameters, the learning rate (or schedule) and the step count."""

    def __init__(self, params: Iterable[Value], lr: LearningRate) -> None:
        who = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{who} got no parameters to optimize")
        seen: set[Value] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Value")
            if p in seen:  # it would be updated twice per step
                raise ValueError(f"{who}: parameter {i} ({p!r}) appears more than once")
            seen.add(p)
        if not callable(lr):
            _check_number(who, "lr", lr, 0.0)
        self.lr = lr
        self.steps = 0  # how many times step() has run: the schedule's argument

    def current_lr(self) -> float:
        """The learning rate the next step() will use."""
        if not callable(self.lr):
            return float(self.lr)
        return _check_number(type(self).__name__, f"lr({self.steps})", self.lr(self.steps), 0.0)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its grad, then count the step."""
        self._update(self.current_lr())
        self.steps += 1

    def _update(self, lr: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update(lr)")


class SGD(Optimizer):
    """g = ∂L/∂θ + λθ;  Δ ← μΔ + g;  θ ← θ − ηΔ  (the slides' momentum form; μ = 0: plain SGD)."""

    def __init__(self, params: Iterable[Value], lr: LearningRate, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0, high_open=True)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay, 0.0)
        self.velocity: dict[Value, float] = {}  # Δ per parameter, filled on first use

    def _update(self, lr: float) -> None:
        mu, decay, velocity = self.momentum, self.weight_decay, self.velocity
        for p in self.params:
            g = p.grad + decay * p.data if decay else p.grad
            if mu:
                g = velocity[p] = mu * velocity.get(p, 0.0) + g
            p.data -= lr * g


class Adam(Optimizer):
    """Kingma & Ba: m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε),
    with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) and g = ∂L/∂θ + λθ."""

    def __init__(self, params: Iterable[Value], lr: LearningRate = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (β₁, β₂), got {betas!r}")
        self.betas = (_check_number("Adam", "betas[0]", betas[0], 0.0, 1.0, high_open=True),
                      _check_number("Adam", "betas[1]", betas[1], 0.0, 1.0, high_open=True))
        self.eps = _check_number("Adam", "eps", eps, 0.0)
        if self.eps == 0.0:
            raise ValueError("Adam: eps must be > 0 (it keeps θ finite when v̂ = 0), got 0.0")
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay, 0.0)
        self.m: dict[Value, float] = {}  # first moment per parameter
        self.v: dict[Value, float] = {}  # second moment per parameter

    def _update(self, lr: float) -> None:
        b1, b2 = self.betas
        t = self.steps + 1  # the bias correction counts from 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        for p in self.params:
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            m = self.m[p] = b1 * self.m.get(p, 0.0) + (1.0 - b1) * g
            v = self.v[p] = b2 * self.v.get(p, 0.0) + (1.0 - b2) * g * g
            p.data -= lr * (m / c1) / (math.sqrt(v / c2) + self.eps)
