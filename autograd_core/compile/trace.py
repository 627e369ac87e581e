"""Trace: run f once on Values and record what it did — its graph as a tape of equations, and
every comparison (and, with the engine's hooks, every number read out of a Value, every detach
and every op under no_grad) as a guard or a stop-gradient step."""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .. import engine, ops
from ..engine import Value
from ..modes import collector_paused, grad_mode, tracer
from ..ops import Op
from ..pytree import tree_flatten, tree_unflatten
from .tape import Eqn, Guard, Tape

_ENGINE_FILE = engine.__file__  # comparisons and reads are reported from inside it


class Uncompilable(TypeError):
    """f did something a tape cannot replay (a custom rule): the program runs f eagerly."""


class Comparison(NamedTuple):
    """`left op right` came out `outcome` at `where`; `shown` is how the left side reads."""

    left: Value
    op: str
    right: Any
    outcome: bool
    where: str
    shown: str = "{}"  # "{}.data" for a read: the left slot's name goes in the braces


class Recorder:
    """The trace in progress (`modes.tracer`): what the engine reports besides the graph."""

    def __init__(self) -> None:
        self.comparisons: list[Comparison] = []
        self.made: dict[Value, tuple[Op, tuple[Value, ...]]] = {}  # leaves an op made off-graph
        self.fresh: set[Value] = set()  # leaves f created while traced: its own numbers
        self.nodes: list[Value] = []  # every op node f made, its result used or not

    def compared(self, left: Value, op: str, right: Any, outcome: bool) -> None:
        """A comparison on a Value (`x < 0`, `if x:`): a guard."""
        self.comparisons.append(Comparison(left, op, right, outcome, _where()))

    def read(self, x: Value, how: str, result: float | None = None) -> None:
        """A number read out of a Value (`.data`, `float`, `item`): a guard that it is equal."""
        if result is None:
            result = x._data  # the number just read (x.data would report again)
        shown = "{}.data" if how == "data" else f"{how}({{}})"
        self.comparisons.append(Comparison(x, "==", result, True, _where(), shown))

    def created(self, v: Value) -> None:
        """A leaf made while tracing (nn's Value(xi)): f's own number, a constant of the tape."""
        self.fresh.add(v)

    def recorded(self, v: Value) -> None:
        """An op node f made (apply reports each, the trace being the grad mode's value)."""
        self.nodes.append(v)

    def detached(self, x: Value, out: Value) -> None:
        """out = x.detach(): a step that copies x's value and stops its gradient."""
        self.made[out] = (ops.POS, (x,))

    def unrecorded(self, op: Op, inputs: tuple[Value, ...], out: Value) -> None:
        """out = op(inputs) under no_grad: a step recomputed at replay, with no gradient."""
        self.made[out] = (op, inputs)


def _where() -> str:
    """file:line: source of the first frame outside the engine (the user's line)."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename == _ENGINE_FILE:
        frame = frame.f_back
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"


@dataclass
class Recorded:
    """One trace: its tape, and how to put aux numbers back into f's aux structure."""

    tape: Tape
    rebuild: Callable[[list[Any]], Any]


def trace(f: Callable[..., Any], inputs: list[Value], names: dict[Value, str], *,
          has_aux: bool, bound: dict[Value, int], name: str,
          as_number: Callable[[Any, str], float]) -> Recorded:
    """Run f on the input Values and record its tape. `bound` maps leaf Values an earlier trace
    took as arguments to their argument's slot: f may read them by closure (a model's weights)."""
    recorder = Recorder()
    # The collector stays paused until the graph is dropped: it would rescan every node.
    with collector_paused():
        token = tracer.set(recorder)
        try:
            with grad_mode(recorder):  # recording, and reporting each node to the recorder
                result = f(*inputs)
        finally:
            tracer.reset(token)
        custom = next((v.op for v in recorder.nodes if v.op and v.op.vjp is not None), None)
        if custom is not None:  # the tape replays partials; a custom rule has none
            raise Uncompilable(f"{name} uses op record {custom.name!r}, a custom rule (vjp) of "
                               f"the upstream gradient: compile replays local partials and "
                               f"cannot run it")
        if has_aux:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError(f"{name} was compiled with has_aux=True, so it must return a "
                                f"pair (value, aux); got {type(result).__name__}")
            out, aux = result
        else:
            out, aux = result, None
        if not isinstance(out, Value):
            out = Value(_plain_result(out, name, recorder, as_number))
        flat, rebuild = flatten(aux, as_number)
        if out not in names and not out.label:
            names = {**names, out: name}
        tape = tape_of(inputs, [out, *flat], recorder, names, bound)
        del result, out, aux, flat, recorder
    return Recorded(tape, rebuild)


def _plain_result(out: Any, name: str, recorder: Recorder,
                  as_number: Callable[[Any, str], float]) -> float:
    """f's result when it is not a Value: a number f computed without the graph. One that f
    got by reading an argument's number (math.sin(x), float(x), x.data) would replay with a
    gradient of 0, silently: refused, naming the read."""
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{name} returned a {type(out).__name__}: a compiled program's value is "
                        f"one scalar (its gradient is defined for one output); return "
                        f"(value, aux) with has_aux=True for the rest, or use jacobian")
    number = as_number(out, f"the result of {name}")
    reads = [c for c in recorder.comparisons if c.shown != "{}"]
    if reads:
        read = reads[0]
        raise TypeError(f"{name} returned a plain {type(out).__name__} ({out!r}), not a Value, "
                        f"after reading a traced Value's number ({read.where}): the graph was "
                        f"dropped, so its gradient would be 0. Use the Value's methods "
                        f"(x.sin(), x.exp(), ...) instead of math.* or float(x)")
    return number


def _order(roots: Sequence[Value], made: dict[Value, tuple[Op, tuple[Value, ...]]],
           own: set[Value]) -> list[Value]:
    """Every node the roots depend on, parents first, following the off-graph steps' inputs
    too (a detached leaf depends on what it copied) and stopping at op nodes f did not make
    (`own`: a Value computed before f ran is read, as eager reads it): an iterative
    depth-first walk."""
    order: list[Value] = []
    done: set[Value] = set()
    for root in roots:
        if root in done:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((node, True))
            parents = made[node][1] if node in made else node.parents if node in own else ()
            stack.extend((p, False) for p in reversed(parents) if p not in done)
    return order


def tape_of(inputs: list[Value], outputs: list[Value], recorder: Recorder,
            given: dict[Value, str], bound: dict[Value, int]) -> Tape:
    """The tape of a recorded run: slots for the arguments, captured leaves, constants, then
    one per op (and off-graph step) in topological order; then the guards' numbers."""
    comparisons, made = recorder.comparisons, recorder.made
    extra: list[Value] = []
    for c in comparisons:  # operands are evaluated even off the graph
        extra += [c.left] + ([c.right] if isinstance(c.right, Value) else [])
    # An op whose result f drops still runs at replay (off the gradient's path), so that an
    # input outside its domain fails there as it fails eagerly: log(-1) raises either way.
    extra += recorder.nodes
    # The op nodes f made (apply reports each): any other op node f reads — a Value computed
    # before f ran, such as an enclosing grad's variable — is a leaf of the tape, read at
    # replay (its gradient goes back through the program's node when one is differentiated).
    own = set(recorder.nodes)
    first = _order(outputs[:1], made, own)
    live_roots = set(first)
    given_inputs = set(inputs)
    order = [n for n in _order([*outputs, *extra], made, own) if n not in given_inputs]
    steps = [n for n in order if n in own or n in made]
    leaves = [n for n in order if n not in own and n not in made]
    fresh = recorder.fresh
    captured = [n for n in leaves if not n.constant and n not in bound and n not in fresh]
    constants = [n for n in leaves if n.constant or (n in fresh and n not in bound)]
    # Slots are numbered densely: arguments, captured, constants, steps.
    slot: dict[Value, int] = {v: i for i, v in enumerate(inputs)}
    slot.update({v: bound[v] for v in leaves if v in bound})
    for i, node in enumerate((*captured, *constants, *steps)):
        slot[node] = len(inputs) + i
    n_leaves = len(inputs) + len(captured) + len(constants)
    eqns: list[Eqn] = []
    stops: set[int] = set()
    checked: set[Op] = set(ops.OPS)  # the table's records are tested against their forward
    for k, node in enumerate(steps):
        op, parents = made[node] if node in made else (node.op, node.parents)  # type: ignore[assignment]
        assert op is not None
        if op not in checked:
            checked.add(op)
            _check_array_forward(op, [p.data for p in parents], node.data)
        out = n_leaves + k
        live = node in live_roots and node not in made
        if node in made:
            stops.add(out)
        eqns.append(Eqn(op, tuple(slot[p] for p in parents), out, live))
    names = _names(inputs, captured, constants, steps, given)
    numbers: list[float] = []
    guards: list[Guard] = []
    n_slots = n_leaves + len(steps)
    for c in comparisons:
        if isinstance(c.right, Value):
            r = slot[c.right]
            right_text = names[r]
        else:  # a number compared: one more slot, after the equations'
            numbers.append(float(c.right))
            r = n_slots + len(numbers) - 1
            right_text = repr(float(c.right))
        left_text = c.shown.format(names[slot[c.left]])
        guards.append(Guard(slot[c.left], c.op, r, c.outcome, f"{left_text} {c.op} {right_text}",
                            c.where))
    return Tape(len(inputs), captured, [n.data for n in constants], eqns, slot[outputs[0]],
                [slot[v] for v in outputs[1:]], guards, numbers, names, frozenset(stops))


def _check_array_forward(op: Op, inputs: list[float], out: float) -> None:
    """A record's array forward must give its forward's number (else a batch would replay
    differently from a point): checked on the first node each trace makes with it."""
    if op.array is None:
        return
    with np.errstate(all="ignore"):
        got = np.asarray(op.array(*[np.array([x]) for x in inputs]), dtype=float).ravel()
    if got.size != 1 or not abs(float(got[0]) - out) <= 1e-12 * max(1.0, abs(out)):
        shown = got.tolist() if got.size != 1 else float(got[0])
        raise ValueError(f"op record {op.name!r}: its array forward gives {shown!r} at "
                         f"{tuple(inputs)} where its forward gives {out!r}, so a batch would "
                         f"replay differently from one point; fix `array` (or leave it out: "
                         f"replay then runs `forward` element by element)")


def _names(inputs: list[Value], captured: list[Value], constants: list[Value],
           steps: list[Value], given: dict[Value, str]) -> list[str]:
    """A name per slot: the argument's name, a leaf's label or number, a node's label or t1, …"""
    names = [given[v] for v in inputs]
    names += [v.label or repr(v.data) for v in (*captured, *constants)]
    used = set(names)
    count = 0
    for node in steps:
        name = given.get(node) or node.label
        if not name or name in used:
            count += 1
            name = f"t{count}"
            while name in used:
                count += 1
                name = f"t{count}"
        used.add(name)
        names.append(name)
    return names


def flatten(aux: Any, as_number: Callable[[Any, str], float]
            ) -> tuple[list[Value], Callable[[list[Any]], Any]]:
    """The Values in a pytree (autograd_core.pytree: tuples, lists, dicts, namedtuples, None;
    numbers become Values), and a function that puts numbers back in the same places."""
    leaves, treedef = tree_flatten(aux)
    flat = [x if isinstance(x, Value) else Value(as_number(x, "an aux output")) for x in leaves]

    def rebuild(values: list[Any]) -> Any:
        return tree_unflatten(treedef, list(values))

    return flat, rebuild
