"""A program inside a differentiation: its call becomes nodes of the eager graph (issue 21,
composition). A node's parents are the call's arguments and every Value the trace read from
outside f (a closed-over variable, an enclosing grad's input), the tape's inputs once its
captured slots are inputs too. The value's first-order partials are the program's own
gradient, from one replay of that widened tape. The gradients and aux outputs the call
returns are nodes over the same parents, and so is every partial asked for on Values
(create_graph): a node for ∂ᵅ(output) whose number comes from the tape rebuilt as a graph on
fresh leaves, one per input, and differentiated |α| times — the tape's inputs are independent
there, as they are at replay, so no path is counted twice, at any order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..engine import Constant, Value, apply, grads_of
from ..modes import grad_mode, pause_collector
from ..ops import SCALER, Op
from .tape import Tape

if TYPE_CHECKING:
    from .program import Traced

Point = tuple[float, ...]
# The replay at a point: (value, aux values, gradient per argument then per captured Value).
Replay = tuple[float, list[float], list[float]]


class Call:
    """One call of a program: the trace it replayed, its replay at the parents' numbers, and
    any derivative of its outputs at any numbers of the parents."""

    def __init__(self, name: str, names: Sequence[str], replay: Callable[[Point], Replay],
                 trace_at: Callable[[Point], Traced], point: Point, first: Replay) -> None:
        self.name = name
        self.names = names  # one per parent: the arguments', then the captured Values'
        self.replay = replay
        self.trace_at = trace_at
        self.point = point
        self.first = first

    def numbers(self, xs: Point) -> Replay:
        """The replay at xs: the call's own, or a new one where a parent's data has changed."""
        return self.first if xs == self.point else self.replay(xs)

    def derivative(self, output: int, alpha: tuple[int, ...], xs: Point) -> float:
        """∂ᵅ(output)/∂(parents) at xs (output 0: the value; k: aux k − 1); the replay gives
        the value, the aux outputs and the value's first order, the tape's graph the rest."""
        if not alpha or (output == 0 and len(alpha) == 1):
            value, aux, grads = self.numbers(xs)
            return grads[alpha[0]] if alpha else value if output == 0 else aux[output - 1]
        with pause_collector(), grad_mode(True):
            leaves = [Value(x) for x in xs]
            q: Any = graph_of(self.trace_at(xs).tape, leaves)[output]
            for j in alpha:
                if not isinstance(q, Value):
                    return 0.0
                q = grads_of(q, [leaves[j]], create_graph=True)[0]
        return q.data if isinstance(q, Value) else float(q)


def graph_of(tape: Tape, inputs: list[Value]) -> list[Value]:
    """The tape run on Values (its inputs, then its constants, then one node per equation; a
    stop-gradient step is a leaf, as detach and no_grad make one): [out, *aux]."""
    vals: list[Any] = [*inputs, *(Constant(c) for c in tape.constants)]
    for op, ins, out, _ in tape.eqns:
        args = [vals[i] for i in ins]
        if out in tape.stops:
            vals.append(Value(op.forward(*[a.data for a in args])))
        else:
            vals.append(apply(op, *args))
    return [vals[tape.out], *(vals[s] for s in tape.aux)]


def node(call: Call, parents: Sequence[Any], output: int, alpha: tuple[int, ...]) -> Value:
    """∂ᵅ(output) as a node over the parents (numbers become Constants: no gradient); each of
    its partials is the node of ∂ᵅ⁺ⁱ, or on floats that node's number."""
    n = len(parents)
    names = call.names
    base = call.name if output == 0 else f"aux{output - 1}_{call.name}"
    name = base + "".join(f"_d{names[j] if names[j].isidentifier() else j}" for j in alpha)
    if not name.isidentifier():
        name = f"compiled_{n}"

    def forward(*xs: float) -> float:
        return call.derivative(output, alpha, xs)

    def partial(i: int) -> Callable[..., Any]:
        def rule(out: Any, *xs: Any) -> Any:
            if type(out) is float:
                return call.derivative(output, (*alpha, i), xs)
            if isinstance(out, Value):  # create_graph: the next derivative, itself a node
                return node(call, xs, output, (*alpha, i))
            # a listing's or a picture's symbols: no formula to write ("∂f/∂x" instead)
            raise TypeError("a compiled program's partial is a number of its replay")
        return rule

    op = Op(name, call.name, SCALER, f"f = {name}({', '.join(names)}), replayed by compile",
            forward=forward, partials=tuple(partial(i) for i in range(n)),
            test_range=((-1.0, 1.0),) * n, inputs=tuple(names))
    return apply(op, *parents)


def gradients(call: Call, parents: Sequence[Any], count: int) -> list[Value]:
    """The nodes of ∂(value)/∂(argument k) for k < count, sharing one record whose first input
    is k itself (a Constant, taking no gradient): one record and n rules per call, not n²."""
    n = len(parents)
    names = call.names

    def forward(k: float, *xs: float) -> float:
        return call.derivative(0, (int(k),), xs)

    def partial(i: int) -> Callable[..., Any]:
        def rule(out: Any, k: Any, *xs: Any) -> Any:
            if type(out) is float:
                return call.derivative(0, (int(k), i), xs)
            if isinstance(out, Value):
                return node(call, xs, 0, (int(k.data), i))
            raise TypeError("a compiled program's partial is a number of its replay")
        return rule

    name = f"d{call.name}"
    op = Op(name, f"∂{call.name}", SCALER,
            f"f = ∂{call.name}/∂(argument k) at ({', '.join(names)}), replayed by compile",
            forward=forward, partials=(None, *(partial(i) for i in range(n))),
            test_range=((0.0, 0.0),) + ((-1.0, 1.0),) * n, inputs=("k", *names))
    return [apply(op, float(k), *parents) for k in range(count)]
