"""A program inside a differentiation: its call becomes nodes of the eager graph (issue 21,
composition). The value node's parents are the arguments and every Value the trace read from
outside f (a closed-over variable, an enclosing grad's input); its partials are the program's
own gradient, from one replay of the tape with those Values as inputs. The gradients and aux
outputs the call returns are nodes too, and any derivative the replay did not compute (a
second order, create_graph=True, an aux's slope) is the eager engine's, from f run again on
the parents: never a number frozen at the replay's point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..engine import Constant, Value, apply, grads_of
from ..modes import grad_level, grad_mode, pause_collector
from ..ops import POS, SCALER, Op
from .trace import flatten

if TYPE_CHECKING:
    from .program import Variant

# What a node of a call holds: the program's value, the gradient w.r.t. argument k, aux k.
VALUE, GRAD, AUX = range(3)

Point = tuple[float, ...]
# The replay at a point: (value, aux values, gradient per argument then per captured Value).
Replay = tuple[float, list[float], list[float]]


class Call:
    """One call of a program at the parents' numbers: the replay there (computed once), the
    replay at any other numbers on request (a rule evaluated after a parent's data changed),
    and f run eagerly on the parents for what the replay does not give."""

    def __init__(self, variant: Variant, n_args: int, captured: list[Value],
                 replay: Callable[[Point], Replay], point: Point, first: Replay,
                 as_number: Callable[[Any, str], float]) -> None:
        self.variant = variant
        self.as_number = as_number
        self.n_args = n_args
        self.captured = captured
        self.replay = replay
        self.point = point
        self.first = first

    def numbers(self, xs: Point) -> Replay:
        """The replay at xs: the call's own, or a new one where a parent's data has changed."""
        return self.first if xs == self.point else self.replay(xs)

    def eager(self, what: int, k: int, xs: Sequence[Any], graph: bool
              ) -> tuple[Value, list[Value]]:
        """(the quantity as a Value built by f run eagerly, the Values it depends on in parent
        order). xs are the parents (graph: the Values themselves) or their numbers."""
        variant, n = self.variant, self.n_args
        by_arg = {i: v for v, i in variant._bound.items()}
        inputs: list[Value] = []
        for i, p in enumerate(xs[:n]):
            w = by_arg.get(i)
            if isinstance(p, Value):  # a fresh node: this slope is w.r.t. argument i alone
                inputs.append(p if p is w else apply(POS, p))
            else:
                inputs.append(w if w is not None and w._data == p else Value(p))
        outside = list(xs[n:]) if graph else self.captured
        wrt = [*inputs, *outside]
        level = grad_level.set(grad_level.get() + 1)
        try:
            result = variant.f(*inputs)
            out, aux = result if variant.has_aux else (result, None)
            if what == AUX:
                q: Any = flatten(aux, self.as_number)[0][k]
            elif not isinstance(out, Value):
                q = Constant(self.as_number(out, f"the result of {variant.name}"))
            elif what == GRAD:
                q = grads_of(out, wrt, create_graph=True)[k]
            else:
                q = out
        finally:
            grad_level.reset(level)
        return (q if isinstance(q, Value) else Constant(q)), wrt


def _rule(call: Call, what: int, k: int, i: int) -> Callable[..., Any]:
    """∂(quantity)/∂(parent i): the replay's number for the value's first order; otherwise
    the eager engine's, on Values (create_graph) or numbers."""

    def rule(out: Any, *xs: Any) -> Any:
        if type(out) is float:
            if what == VALUE:
                return call.numbers(tuple(xs))[2][i]
            with pause_collector(), grad_mode(True):
                q, wrt = call.eager(what, k, xs, graph=False)
                return grads_of(q, [wrt[i]])[0]
        if isinstance(out, Value):
            with grad_mode(True):
                q, wrt = call.eager(what, k, xs, graph=True)
                return grads_of(q, [wrt[i]], create_graph=True)[0]
        # symbols (a listing's or a picture's formula) and anything else: no formula to write
        raise TypeError("a compiled program's partial is a number of its replay")
    return rule


def _forward(call: Call, what: int, k: int) -> Callable[..., float]:
    """The quantity at the parents' numbers: the call's replay, or a new one where they moved."""

    def forward(*xs: float) -> float:
        value, aux, grads = call.numbers(tuple(xs))
        return value if what == VALUE else grads[k] if what == GRAD else aux[k]
    return forward


def node(call: Call, parents: Sequence[Any], names: Sequence[str], what: int, k: int,
         name: str) -> Value:
    """The quantity as a node over the parents (numbers become Constants: no gradient)."""
    n = len(parents)
    op = Op(name, call.variant.name, SCALER,
            f"f = {name}({', '.join(names)}), replayed by compile",
            forward=_forward(call, what, k),
            partials=tuple(_rule(call, what, k, i) for i in range(n)),
            test_range=((-1.0, 1.0),) * n, inputs=tuple(names))
    return apply(op, *parents)
