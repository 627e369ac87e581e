"""The functional API, as in HIPS autograd and JAX: `grad(f)` and `value_and_grad(f)` are
functions of f's arguments; they compose (grad of grad) and change no node's grad.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .engine import Value, apply, as_real, grads_of
from .modes import grad_level, grad_mode, pause_collector
from .ops import POS


def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0
                   ) -> Callable[..., tuple[Any, Any]]:
    """(f(*args), ∂f/∂args[argnums]): an int gives one gradient, a tuple gives a tuple.

    Composes: inside another grad (or given Values) it returns Values connected to the graph,
    so the outer grad differentiates through it. No node's grad is changed.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        for i in nums:
            if not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i} is out of range for {len(args)} arguments")
        # Inside an outer differentiation (or handed its Values) the result must stay a graph
        # the outer one can differentiate; otherwise plain numbers are returned.
        nested = grad_level.get() > 0 or any(isinstance(a, Value) for a in args)
        inputs = list(args)
        for i in set(i % len(args) for i in nums):
            # A fresh node per input, even for a Value: this derivative is with respect to
            # it alone, not to the outer variable it was made from.
            a = args[i]
            inputs[i] = apply(POS, a) if isinstance(a, Value) else Value(as_real(a, "grad's input"))
        level = grad_level.set(grad_level.get() + 1)
        try:
            with pause_collector(), grad_mode(True):
                out = f(*inputs)
                if not isinstance(out, Value):
                    out = Value(as_real(out, f"the result of {getattr(f, '__name__', 'f')}"))
                wrt = [inputs[i] for i in nums]
                result = tuple(grads_of(out, wrt, create_graph=nested))
        finally:
            grad_level.reset(level)
        return (out if nested else out._data), (result[0] if isinstance(argnums, int) else result)

    return wrapped


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The function args ↦ ∂f/∂args[argnums]; composes with itself for higher derivatives."""
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f
