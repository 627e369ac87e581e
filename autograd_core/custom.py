"""`custom_vjp`, as JAX spells it: a function with a backward rule of your own (clip the
gradient, pass it straight through a rounding). Each call is one graph node whose op record
carries the rule (`Op(vjp=...)`), so backward, grad, the stepper and the pictures all run it.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from contextvars import ContextVar
from typing import Any, Callable

from .engine import Value, apply
from .modes import is_grad_enabled
from .ops import CUSTOM, Op
from .pytree import tree_map

__all__ = ["custom_vjp"]

# The custom_vjp functions whose fwd is running in this context (per thread and task, as the
# grad mode): JAX's idiom `def f_fwd(x): return f(x), res` calls f inside its own fwd, where f
# means the plain function.
_in_fwd: ContextVar[tuple[Any, ...]] = ContextVar("autograd_core.custom_fwd", default=())


class custom_vjp:  # noqa: N801 — a decorator, spelled as JAX spells it
    """f with a backward rule of yours: `@custom_vjp def f(x, ...)`, then `f.defvjp(fwd, bwd)`
    with fwd(*args) = (f(*args), residuals) and bwd(residuals, g) = (ct₀, ct₁, …), what each
    argument's grad gains from the upstream gradient g (None for an argument that takes none).

    Written with Value arithmetic, bwd differentiates again (grad of grad, create_graph=True):
    the residuals are then the Values fwd made, and g is a Value. On numbers, or under no_grad,
    a call is f itself.
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        if not callable(fun):
            raise TypeError(f"custom_vjp needs a function, got {type(fun).__name__}: {fun!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        name = getattr(fun, "__name__", "")
        self._name = name if name.isidentifier() else "custom"
        try:
            params = inspect.signature(fun).parameters.values()
            self._params = tuple(p.name for p in params if p.kind in (
                p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        except (TypeError, ValueError):  # a builtin without a signature
            self._params = ()

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the rule: fwd(*args) -> (out, residuals); bwd(residuals, g) -> cotangents."""
        for what, rule in (("fwd", fwd), ("bwd", bwd)):
            if not callable(rule):
                raise TypeError(f"{self._name}.defvjp: {what} must be a function, got "
                                f"{type(rule).__name__}: {rule!r}")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"{self._name} is a custom_vjp function: pass its arguments by "
                            f"position (one cotangent each), got keywords {sorted(kwargs)}")
        if self.fwd is None or self.bwd is None:
            raise TypeError(f"custom_vjp function {self._name} has no backward rule: call "
                            f"{self._name}.defvjp(fwd, bwd) before calling it")
        if not args:
            raise TypeError(f"{self._name} is a custom_vjp function: it needs an argument")
        for i, a in enumerate(args):
            if not isinstance(a, (Value, numbers.Real)) or isinstance(a, bool):
                raise TypeError(f"{self._name}: argument {i} must be a number or a Value (one "
                                f"cotangent each), got {type(a).__name__}: {a!r}")
        if (not is_grad_enabled() or not any(isinstance(a, Value) for a in args)
                or self in _in_fwd.get()):
            return self.fun(*args)  # nothing records it (or fwd calls f): the function itself
        token = _in_fwd.set((*_in_fwd.get(), self))
        try:
            result = self.fwd(*args)
        finally:
            _in_fwd.reset(token)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(f"{self._name}'s fwd must return a pair (out, residuals), got "
                            f"{result!r}")
        out, residuals = result
        if not isinstance(out, (Value, numbers.Real)) or isinstance(out, bool):
            raise TypeError(f"{self._name}'s fwd must return a number or a Value as out, got "
                            f"{type(out).__name__}: {out!r}")
        record = Op(self._name, self._name, CUSTOM, f"f = {self._name}(…)",
                    forward=_Forward(self.fun, args, out), vjp=_Backward(self.bwd, residuals),
                    inputs=self._inputs(len(args)))
        return apply(record, *args)

    def _inputs(self, n: int) -> tuple[str, ...]:
        if len(self._params) == n:
            return self._params
        return ("x", "y", "z")[:n] if n <= 3 else tuple(f"x{i}" for i in range(n))

    def __repr__(self) -> str:
        return f"custom_vjp({self._name})"


def _number(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


class _Forward:
    """The record's forward: fwd's out at the call's inputs (computed once), f elsewhere."""

    __slots__ = ("fun", "at", "out")

    def __init__(self, fun: Callable[..., Any], args: tuple[Any, ...], out: Any) -> None:
        self.fun = fun
        self.at = tuple(_number(a) for a in args)
        self.out = _number(out)

    def __call__(self, *xs: float) -> Any:
        return self.out if xs == self.at else _number(self.fun(*xs))


class _Backward:
    """The record's vjp: bwd(residuals, g) — on Values for create_graph, on their numbers else."""

    __slots__ = ("bwd", "residuals")

    def __init__(self, bwd: Callable[..., Any], residuals: Any) -> None:
        self.bwd = bwd
        self.residuals = residuals

    def __call__(self, g: Any, out: Any, *inputs: Any) -> Any:
        graph = isinstance(out, Value)  # the walk runs rules on Values only for create_graph
        return self.bwd(self.residuals if graph else tree_map(_number, self.residuals), g)
