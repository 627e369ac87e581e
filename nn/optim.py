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
    """x as a finite float in [low, high] (or [low, high) when high_open); otherwise a
    TypeError (not a number, or a bool) or ValueError naming `name` and the value."""
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{who}: {name} must be a number, got {type(x).__name__}: {x!r}")
    try:
        x = float(x)
    except OverflowError:  # an int beyond every float
        raise ValueError(f"{who}: {name} must be a finite number, got {x!r:.40}") from None
    if not math.isfinite(x):
        raise ValueError(f"{who}: {name} must be a finite number, got {x!r}")
    inside = low <= x < high if high_open else low <= x <= high
    if not inside:
        bound = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"{who}: {name} must be in {bound}, got {x!r}")
    return x


def linear_schedule(start: float, end: float, steps: int) -> Schedule:
    """lr(k) = start − (start − end)·k/steps, then `end` from step `steps` on."""
    _check_number("linear_schedule", "start", start, 0.0)
    _check_number("linear_schedule", "end", end, 0.0)
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"linear_schedule: steps must be an int ≥ 1, got "
                        f"{type(steps).__name__}: {steps!r}")
    if steps < 1:
        raise ValueError(f"linear_schedule: steps must be an int ≥ 1, got {steps!r}")

    def lr(k: int) -> float:
        # Written as micrograd's demo writes it (1.0 - 0.9*k/100), so the numbers agree exactly.
        return start - (start - end) * min(k, steps) / steps

    return lr


Params = Iterable[Value] | Iterable[tuple[str, Value]]
Update = tuple[float, dict[str, float]]  # a parameter's new data, and its new state by buffer


class Optimizer:
    """Holds the parameters (Values, or (name, Value) pairs as `named_parameters()` gives),
    the learning rate (or schedule) and the step count.

    A step is all or nothing: every new value (and every state buffer) is computed and checked
    finite first, and only then written; an update that overflows raises OverflowError naming
    the parameter and changes no parameter, no buffer and no step count.
    """

    def __init__(self, params: Params, lr: LearningRate) -> None:
        who = type(self).__name__
        if isinstance(params, (Value, str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(f"{who}: params must be an iterable of Values (or of (name, Value) "
                            f"pairs), got {type(params).__name__}")
        self.params: list[Value] = []
        self.names: list[str | None] = []  # a name per parameter, when given pairs
        seen: set[Value] = set()
        for i, item in enumerate(params):
            name, p = _name_and_value(who, i, item)
            if p in seen:  # it would be updated twice per step
                raise ValueError(f"{who}: parameter {i} ({p!r}) appears more than once")
            seen.add(p)
            self.params.append(p)
            self.names.append(name)
        if not self.params:
            raise ValueError(f"{who} got no parameters to optimize")
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
        """Update every parameter that requires a grad (a frozen one stays as it is, weight
        decay and momentum included), then count the step; all or nothing."""
        lr = self.current_lr()
        # Every update is computed and checked before any is written: an overflow in the last
        # parameter must not leave the first ones moved (nor a buffer holding its number).
        live = [(i, p) for i, p in enumerate(self.params) if p.requires_grad]
        updates = [self._propose(i, p, lr) for i, p in live]
        for (_, p), (data, state) in zip(live, updates):
            p.data = data
            for buffer, value in state.items():
                getattr(self, buffer)[p] = value
        self.steps += 1

    def _propose(self, i: int, p: Value, lr: float) -> Update:
        """Parameter i's new data and state buffers (by attribute name); writes nothing."""
        raise NotImplementedError(f"{type(self).__name__} must define _propose(i, p, lr)")

    def _grad(self, i: int, p: Value, decay: float) -> float:
        """g = ∂L/∂θ + λθ, as a number (a grad with a graph, from create_graph, gives its own)."""
        g = p.grad.data if isinstance(p.grad, Value) else p.grad
        return self._finite(i, "its gradient with weight decay (g + λθ)", g + decay * p.data
                            ) if decay else g

    def _finite(self, i: int, what: str, x: float) -> float:
        if not math.isfinite(x):
            raise OverflowError(
                f"{type(self).__name__}.step: {what} overflows a float for {self.describe(i)} "
                f"(grad {self.params[i].grad!r}, got {x!r}); nothing was changed: no "
                f"parameter, no buffer, no step count")
        return x

    def describe(self, i: int) -> str:
        """Parameter i as an error names it: its name (or label) when known, its index, data."""
        p = self.params[i]
        name = self.names[i] or p.label
        named = f"{name!r}, " if name else ""
        return f"parameter {i} ({named}data={p.data!r})"


def _name_and_value(who: str, i: int, item: Any) -> tuple[str | None, Value]:
    if isinstance(item, Value):
        return None, item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Value):
        if not isinstance(item[0], str):
            raise TypeError(f"{who}: parameter {i}'s name must be a str, got "
                            f"{type(item[0]).__name__}: {item[0]!r}")
        return item[0], item[1]
    raise TypeError(f"{who}: parameter {i} is a {type(item).__name__}, not a Value "
                    f"(nor a (name, Value) pair)")


class SGD(Optimizer):
    """g = ∂L/∂θ + λθ;  Δ ← μΔ + g;  θ ← θ − ηΔ  (the slides' momentum form; μ = 0: plain SGD)."""

    def __init__(self, params: Params, lr: LearningRate, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0, high_open=True)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay, 0.0)
        self.velocity: dict[Value, float] = {}  # Δ per parameter, filled on first use

    def _propose(self, i: int, p: Value, lr: float) -> Update:
        g = self._grad(i, p, self.weight_decay)
        state: dict[str, float] = {}
        if self.momentum:
            g = state["velocity"] = self._finite(
                i, "the velocity μΔ + g", self.momentum * self.velocity.get(p, 0.0) + g)
        return self._finite(i, "the new value θ − ηΔ", p.data - lr * g), state


class Adam(Optimizer):
    """Kingma & Ba: m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε),
    with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) and g = ∂L/∂θ + λθ."""

    def __init__(self, params: Params, lr: LearningRate = 0.001,
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

    def _propose(self, i: int, p: Value, lr: float) -> Update:
        b1, b2 = self.betas
        t = self.steps + 1  # the bias correction counts from 1
        g = self._grad(i, p, self.weight_decay)
        m = self._finite(i, "the first moment m", b1 * self.m.get(p, 0.0) + (1.0 - b1) * g)
        # An infinite v would make the step m̂/(√v̂ + ε) = 0 for ever after: the parameter
        # would silently freeze. It is an overflow like any other.
        v = self._finite(i, "the second moment v (with g²)",
                         b2 * self.v.get(p, 0.0) + (1.0 - b2) * g * g)
        step = (m / (1.0 - b1**t)) / (math.sqrt(v / (1.0 - b2**t)) + self.eps)
        new = self._finite(i, "the new value θ − η·m̂/(√v̂ + ε)", p.data - lr * step)
        return new, {"m": m, "v": v}
