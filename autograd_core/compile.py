"""Trace once, replay as a program: `compile(f, *example_args)` runs f on Values once, keeps its
graph as straight-line instructions read from each node's op record, and evaluates f and its
gradient at new arguments (numbers, or numpy arrays of them: a batch) without building nodes.

Comparisons on Values made while tracing are guards: a replay where one comes out differently
retraces (or, with strict=True, raises GuardError naming the comparison and its source line).
"""

from __future__ import annotations

import functools
import inspect
import linecache
import math
import operator
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import engine, rules
from .engine import Value, topological_order
from .functional import value_and_grad
from .modes import collector_paused, enable_grad, tracer
from .ops import ADD, SUB, Op

_ENGINE_FILE = engine.__file__  # comparisons are reported from inside it

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne}
_NAN = math.nan


class GuardError(RuntimeError):
    """A comparison made while tracing comes out the other way at these arguments."""


@dataclass(frozen=True)
class Guard:
    """`left op right` came out `outcome` while tracing, at `where` (file:line: source)."""

    left: int  # slot of the left operand
    op: str  # "<", "<=", ">", ">=", "!=" (truth: v != 0)
    right: int  # slot of the right operand (a number becomes a constant slot)
    outcome: bool
    text: str  # as written with the trace's names: "x > 0.0"
    where: str


class _Tracer:
    """What a trace sees besides the graph: each comparison on a Value, with its source line."""

    def __init__(self) -> None:
        self.comparisons: list[tuple[Value, str, Any, bool, str]] = []

    def compared(self, left: Value, op: str, right: Any, outcome: bool) -> None:
        """Called by Value's comparison methods while this trace is active."""
        # The first frame outside the engine: the user's line that compared (however many
        # engine frames, wrappers included, lie between).
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_code.co_filename == _ENGINE_FILE:
            frame = frame.f_back
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"
        self.comparisons.append((left, op, right, outcome, where))


# --- one trace: the graph as instructions over numbered slots ------------------------------------

class Trace:
    """One run of f on Values, as instructions: slots 0..n_in-1 are the arguments, then the
    constants, then one slot per op node in topological order (node k is slot n_leaves + k)."""

    def __init__(self, inputs: list[Value], outputs: list[Value], comparisons: list[Any],
                 names: dict[Value, str]) -> None:
        extra: list[Value] = []
        for left, _, right, _, _ in comparisons:  # operands are evaluated even off the graph
            extra += [left] + ([right] if isinstance(right, Value) else [])
        first = topological_order(outputs[0])
        live = set(first)  # what the gradient flows through
        given = set(inputs)
        order = [n for n in first if n not in given]
        seen = live | given
        for root in (*outputs[1:], *extra):
            if root not in seen:  # each order lists parents first; known nodes are skipped
                for node in topological_order(root):
                    if node not in seen:
                        seen.add(node)
                        order.append(node)
        leaves = [n for n in order if n.op is None]
        op_nodes = [n for n in order if n.op is not None]
        self.n_in = len(inputs)
        slot: dict[Value, int] = {v: i for i, v in enumerate(inputs)}
        for node in (*leaves, *op_nodes):
            slot[node] = len(slot)
        self.constants = [n.data for n in leaves]  # numbers, and leaves that are not arguments
        numbers: list[float] = []
        self.guards: list[Guard] = []
        self.n_leaves = self.n_in + len(leaves)
        self.nodes: list[tuple[Op, tuple[int, ...]]] = [
            (n.op, tuple(slot[p] for p in n.parents)) for n in op_nodes]  # type: ignore[misc]
        self.live = [n in live for n in op_nodes]
        self.names = _names(inputs, leaves, op_nodes, names)
        self.out = slot[outputs[0]]
        self.aux = [slot[v] for v in outputs[1:]]
        for left, op, right, outcome, where in comparisons:
            if isinstance(right, Value):
                r = slot[right]
            else:  # a number compared: one more constant, after the op nodes' slots
                numbers.append(float(right))
                r = self.n_leaves + len(op_nodes) + len(numbers) - 1
            text = f"{self.names[slot[left]]} {op} " + (self.names[r] if r < len(self.names)
                                                         else repr(float(right)))
            self.guards.append(Guard(slot[left], op, r, outcome, text, where))
        self.numbers = numbers  # the guards' numbers, in slots after the op nodes'
        self.n_slots = self.n_leaves + len(op_nodes)
        self._floats: _Floats | None = None
        self._arrays: _Arrays | None = None
        # Narrow: under 32 nodes per level of the numpy executor (a long chain has one), where
        # numpy's cost per call would dominate; the flat loop replays one point then.
        self.narrow = len(self.nodes) < 32 * _levels(self)

    @property
    def floats(self) -> _Floats:
        """The flat-loop executor (built on first use)."""
        if self._floats is None:
            self._floats = _Floats(self)
        return self._floats

    @property
    def arrays(self) -> _Arrays:
        """The grouped numpy executor (built on first use)."""
        if self._arrays is None:
            self._arrays = _Arrays(self)
        return self._arrays

    def listing(self) -> str:
        """The forward and backward passes as straight-line code in the slides' notation."""
        names = self.names
        lines = ["forward"]
        for k, (op, parents) in enumerate(self.nodes):
            written = op.written(*(names[p] for p in parents))
            lines.append(f"  {names[self.n_leaves + k]} = {written}")
        root = names[self.out]
        lines.append("backward")
        assigned: set[int] = set()
        for k in reversed(range(len(self.nodes))):
            if not self.live[k]:
                continue
            op, parents = self.nodes[k]
            node = self.n_leaves + k
            upstream = "" if node == self.out else f"d{root}/d{names[node]}"
            values = dict(zip(op.inputs, (names[p] for p in parents)), out=names[node])
            for i, (p, rule) in enumerate(zip(parents, op.partials)):
                if rule is None or self.n_in <= p < self.n_leaves:
                    continue  # a constant takes no gradient
                term = _term(_written_partial(op, i, rule, values), upstream)
                lines.append(f"  d{root}/d{names[p]} {'+=' if p in assigned else '='} {term}")
                assigned.add(p)
        if self.guards:
            lines.append("guards")
            lines += [f"  {g.text} is {g.outcome}  ({g.where})" for g in self.guards]
        return "\n".join(lines)

    def check_guards(self, value: Callable[[int], Any]) -> Any:
        """Whether every guard holds (per point for a batch), reading slots through `value`."""
        ok: Any = True
        for g in self.guards:
            ok = ok & (_COMPARE[g.op](value(g.left), value(g.right)) == g.outcome)
        return ok

    def first_flip(self, value: Callable[[int], Any]) -> Guard:
        """The first guard that does not hold."""
        return next(g for g in self.guards
                    if not np.all(_COMPARE[g.op](value(g.left), value(g.right)) == g.outcome))


def _names(inputs: list[Value], leaves: list[Value], op_nodes: list[Value],
           given: dict[Value, str]) -> list[str]:
    """A name per slot: the argument's name, a constant's number, a node's label or t1, t2, …"""
    names = [given[v] for v in inputs]
    names += [v.label or repr(v.data) for v in leaves]
    used = set(names)
    count = 0
    for node in op_nodes:
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


def _written_partial(op: Op, i: int, rule: Any, values: dict[str, str]) -> str:
    """∂out/∂input i as the listing writes it: "" for 1, "-" for −1, else the record's text."""
    if type(rule) is float:
        return "" if rule == 1.0 else "-" if rule == -1.0 else repr(rule)
    return op.partial_written(i, values["out"], tuple(values[name] for name in op.inputs))


def _term(partial: str, upstream: str) -> str:
    """partial · upstream, with the 1s left out: `z`, `df/dq`, `(1 − o²) · df/do`."""
    if not upstream:
        return partial if partial not in ("", "-") else partial + "1"
    if partial in ("", "-"):
        return partial + upstream
    if any(c in partial for c in " +-−/·"):
        partial = f"({partial})"
    return f"{partial} · {upstream}"


def _uses(trace: Trace) -> list[int]:
    """How many times each slot is read: by nodes, and twice more when read after the replay
    (the output, aux outputs and guards' operands), so that no such node is absorbed."""
    uses = [0] * trace.n_slots
    for _, parents in trace.nodes:
        for p in parents:
            uses[p] += 1
    for s in (trace.out, *trace.aux, *(g.left for g in trace.guards),
              *(g.right for g in trace.guards)):
        if s < trace.n_slots:
            uses[s] += 2
    return uses


def _levels(trace: Trace) -> int:
    """The numpy executor's number of levels, as _grouping finds them, in one light pass: a
    sum is one level above what its terms read, and a term that only it uses (the chain of +
    and − before it, or a product) is computed inside it, at no level of its own."""
    base, nodes, uses = trace.n_leaves, trace.nodes, _uses(trace)
    depth = [0] * trace.n_slots

    def inside(s: int, second: bool) -> bool:  # a sum as the second term is read, not absorbed
        return s >= base and uses[s] == 1 and not (second and nodes[s - base][0] in (ADD, SUB))

    for k, (op, parents) in enumerate(nodes):
        if op is ADD or op is SUB:
            first, second = parents
            depth[base + k] = 1 + max(depth[first] - inside(first, False),
                                      depth[second] - inside(second, True))
        else:
            depth[base + k] = 1 + max(depth[p] for p in parents)
    return max(depth[base:], default=1)


def _grouping(trace: Trace) -> tuple[dict[tuple[Any, ...], list[int]], list[Any],
                                     dict[int, tuple[Op | None, ...]]]:
    """How the numpy executor groups the nodes: {(depth, live, recipe): node indices}, each
    node's terms as a sum [(slot, sign)] (None: not a sum, or absorbed into its user), and per
    sum the op that makes each term inside it (None: read from its slot)."""
    base, nodes, uses = trace.n_leaves, trace.nodes, _uses(trace)
    # terms[k]: (slot, sign) of node k as a sum; a node absorbed into its user gets None
    terms: list[list[tuple[int, float]] | None] = [None] * len(nodes)
    absorbed: set[int] = set()

    def only_use(s: int, k: int) -> bool:  # slot s is a node read by node k alone
        return s >= base and uses[s] == 1 and trace.live[s - base] == trace.live[k]

    for k, (op, parents) in enumerate(nodes):
        if op is ADD or op is SUB:
            first, second = parents
            own = terms[first - base] if only_use(first, k) else None
            if own is not None:
                terms[first - base] = None
                absorbed.add(first - base)
            else:
                own = [(first, 1.0)]
            terms[k] = [*own, (second, 1.0 if op is ADD else -1.0)]
    # made[k]: per term of sum k, the op that makes it there (None: read from its slot)
    made: dict[int, tuple[Op | None, ...]] = {}
    for k, own in enumerate(terms):
        if own is not None:
            made[k] = tuple(nodes[s - base][0] if only_use(s, k) and terms[s - base] is None
                            and s - base not in absorbed else None for s, _ in own)
            absorbed.update(s - base for (s, _), m in zip(own, made[k]) if m is not None)
    depth = [0] * trace.n_slots
    groups: dict[tuple[Any, ...], list[int]] = {}
    for k, (op, parents) in enumerate(nodes):
        if k in absorbed:
            continue
        if k in made:
            ins = [r for (s, _), m in zip(terms[k], made[k])  # type: ignore[arg-type]
                   for r in (nodes[s - base][1] if m is not None else (s,))]
            kind: Any = made[k]
        else:
            ins, kind = list(parents), op
        d = 1 + max(depth[p] for p in ins)
        depth[base + k] = d
        groups.setdefault((d, trace.live[k], kind), []).append(k)
    return groups, terms, made


# --- executor 1: a flat loop over floats, for narrow graphs --------------------------------------

class _Floats:
    """A trace replayed by one Python loop over floats with the records' scalar rules: the
    eager engine's arithmetic exactly, without a node object or a numpy call per node."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.wide: list[tuple[int, ...]] = []  # parents of ops with three inputs or more
        steps: list[tuple[Callable[..., float], int, int]] = []
        for op, parents in trace.nodes:
            if len(parents) == 2:
                steps.append((op.forward, parents[0], parents[1]))
            elif len(parents) == 1:
                steps.append((op.forward, parents[0], -1))
            else:
                steps.append((op.forward, len(self.wide), -2))
                self.wide.append(parents)
        self.steps = steps
        back: list[tuple[int, tuple[int, ...], tuple[Any, ...]]] = []
        for k in reversed(range(len(trace.nodes))):
            op, parents = trace.nodes[k]
            # A constant's rule is never evaluated, as in eager backward.
            rules = tuple(None if rule is None or trace.n_in <= p < trace.n_leaves else rule
                          for p, rule in zip(parents, op.partials))
            if trace.live[k] and any(r is not None for r in rules):
                back.append((trace.n_leaves + k, parents, rules))
        self.back = back

    def forward(self, x: list[float]) -> list[float]:
        """Every slot's value; nan where an op is undefined (found and named by the caller)."""
        vals = [*x, *self.trace.constants]
        try:
            self._run(vals, self.steps)
        except (ArithmeticError, ValueError):  # find the others too: a guard may explain it
            del vals[self.trace.n_leaves:]
            self._run(vals, [(functools.partial(_or_nan, fwd), a, b) for fwd, a, b in self.steps])
        vals += self.trace.numbers
        return vals

    def _run(self, vals: list[float], steps: list[tuple[Callable[..., float], int, int]]) -> None:
        push = vals.append
        wide = self.wide
        for fwd, a, b in steps:
            if b >= 0:
                push(fwd(vals[a], vals[b]))
            elif b == -1:
                push(fwd(vals[a]))
            else:
                push(fwd(*[vals[j] for j in wide[a]]))

    def backward(self, vals: list[float]) -> list[float]:
        """d(out)/d(slot) for every slot: eager's float walk, step for step."""
        grads = [0.0] * len(vals)
        grads[self.trace.out] = 1.0
        for node, parents, partials in self.back:
            g = grads[node]
            out = vals[node]
            if len(parents) == 2:
                a, b = parents
                ra, rb = partials
                xa, xb = vals[a], vals[b]
                if ra is not None:
                    grads[a] += (ra if type(ra) is float else ra(out, xa, xb)) * g
                if rb is not None:
                    grads[b] += (rb if type(rb) is float else rb(out, xa, xb)) * g
            elif len(parents) == 1:
                a = parents[0]
                r = partials[0]
                grads[a] += (r if type(r) is float else r(out, vals[a])) * g
            else:
                args = [vals[p] for p in parents]
                for p, rule in zip(parents, partials):
                    if callable(rule):
                        grads[p] += rule(out, *args) * g
                    elif rule is not None:
                        grads[p] += rule * g
        return grads


def _or_nan(fwd: Callable[..., float], *args: float) -> float:
    """fwd(*args), or nan where it is undefined: replay finds and names the op afterwards."""
    try:
        return fwd(*args)
    except (ArithmeticError, ValueError, TypeError):
        return _NAN


# --- executor 2: numpy over groups of same-recipe nodes at the same depth -------------------------

def _add_rows(T: np.ndarray) -> np.ndarray:
    """T[0] + T[1] + … added in that order, as eager's chain of adds does. numpy's reduce
    over the first axis adds whole rows in order when a row has more than one element; over
    one column it would sum pairwise, so a single node accumulates instead."""
    return np.add.reduce(T, axis=0) if T[0].size > 1 else np.add.accumulate(T, axis=0)[-1]


class _Slots:
    """A table of slots, read forward (gathered) and added into backward (scattered): a run of
    consecutive slots, in the table's order or its transpose's (a layer's inputs, read term by
    term), is a slice, read without a copy; repeated slots add up (one bincount, or np.add.at
    for a batch)."""

    def __init__(self, slots: np.ndarray) -> None:
        self.slots = slots
        self.shape = slots.shape
        self.run: slice | None = None
        self.flipped = False  # the run is in the order of the transposed table
        for flipped, flat in ((False, slots), (True, slots.T))[:slots.ndim]:
            flat = flat.ravel()
            start = int(flat[0])
            if np.array_equal(flat, np.arange(start, start + flat.size)):
                self.run, self.flipped = slice(start, start + flat.size), flipped
                break
        self.distinct, inverse = np.unique(slots, return_inverse=True)
        self.inverse = inverse.ravel()
        self.once = len(self.distinct) == slots.size

    def read(self, v: np.ndarray) -> np.ndarray:
        """v at these slots, shaped like the table (plus v's batch axis)."""
        if self.run is None:
            return v.take(self.slots, axis=0)
        if self.flipped:
            return v[self.run].reshape(self.shape[::-1] + v.shape[1:]).swapaxes(0, 1)
        return v[self.run].reshape(self.shape + v.shape[1:])

    def add(self, G: np.ndarray, c: Any) -> None:
        """G[slots] += c, shaped like the table (or broadcast to it), repeats adding up."""
        full = self.shape + G.shape[1:]
        if c.shape != full:
            c = np.broadcast_to(c, full)
        if self.run is not None:
            if self.flipped:
                G[self.run].reshape(self.shape[::-1] + G.shape[1:])[...] += c.swapaxes(0, 1)
            else:
                G[self.run] += c.reshape((-1,) + G.shape[1:])
        elif self.once:  # no slot twice: a plain indexed add is right
            G[self.slots] += c
        elif len(self.distinct) == 1:  # one slot (a bias shared by every point): a sum
            G[self.distinct[0]] += c.reshape((-1,) + G.shape[1:]).sum(axis=0)
        elif G.ndim == 1:  # one point: bincount over the distinct slots beats np.add.at
            G[self.distinct] += np.bincount(self.inverse, c.ravel(), len(self.distinct))
        else:  # a contiguous copy: np.add.at takes a slow path on a broadcast view
            np.add.at(G, self.slots, np.ascontiguousarray(c))


@dataclass
class _Block:
    """Rows of a group made by one op (None: read as they are) from its inputs' slots: one
    numpy call forward, and one per input that takes a gradient backward.

    A grid block is a sum's products (a record with product=True) over every pair of a
    distinct column of its first input's slots with one of its second's: the terms wᵢⱼ·xₚᵢ
    of a layer's neurons j at points p. It
    reads each weight and input once and multiplies them by broadcasting, (terms, outer, 1) ×
    (terms, 1, inner), so the products and their adds are eager's, bit for bit; backward, where
    order of adds decides nothing, is two matrix products, (terms, inner) @ gradᵀ and
    (terms, outer) @ grad, instead of a scatter-add per product."""

    op: Op | None
    rows: Any  # which of the sum's rows it fills (a slice or indices); a plain group: all
    reads: tuple[_Slots, ...]  # per input, the slots it reads, (terms, nodes) for a sum
    forward: Callable[..., Any] | None = None
    partials: tuple[Any, ...] = (1.0,)
    grad: tuple[bool, ...] = ()  # per input: does any slot it reads take a gradient
    signs: np.ndarray | None = None  # ±1 per term when some term is subtracted
    grid: tuple[int, int] | None = None  # a grid block: (outer, inner) sizes
    outer: int = 0  # a grid block: which input's columns make its outer axis


@dataclass
class _Group:
    """Nodes at one depth with one recipe, in slots start..stop. Plain (rows None): each node is
    one op of its inputs, one block. A sum: each node adds up its terms, some read from slots
    and some made right there by an op whose node has no other use (the products w·x of a
    neuron): each block fills some of its `rows` rows (one per term), then they are added in
    the terms' order."""

    start: int
    stop: int
    live: bool
    blocks: list[_Block]
    rows: int | None = None


class _Arrays:
    """A trace replayed with numpy: its nodes grouped by (depth, recipe), each group a few calls
    forward and backward, on a batch of points at once if given one.

    A left-deep chain of + and − whose inner nodes have no other use (what `sum()` builds)
    becomes one n-ary sum; a term of it made by an op used nowhere else is computed inside the
    sum; and the products of a layer, w·x over a grid of neurons and points, are one grid
    block. A layer is a few numpy calls, not one per product and add.

    Forward makes the same products and adds them in eager's order, so relu, max and the
    guards choose as eager would even at a tie (numpy's tanh or exp may differ from math's in
    the last bit). Backward adds a gradient's parts in another order (bincount, matrix
    products): gradients agree with eager's to rounding.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        base, nodes = trace.n_leaves, trace.nodes
        groups, terms, made = _grouping(trace)
        keys = sorted(groups, key=lambda key: key[0])  # stable: first seen first within a depth
        # Each group's plan in trace slots; a grid block may put a sum's nodes in grid order.
        plans: list[tuple[list[Any], int | None]] = []
        for key in keys:
            ks = groups[key]
            if ks[0] in made:
                plan, order = _sum_plan(nodes, base, ks, terms, made[ks[0]])
                if order is not None:
                    ks[:] = [ks[i] for i in order]
                    plan, _ = _sum_plan(nodes, base, ks, terms, made[ks[0]])
                rows: int | None = len(made[ks[0]])
            else:
                op = nodes[ks[0]][0]
                plan = [(op, slice(None), [np.array([nodes[k][1][i] for k in ks])
                                           for i in range(op.arity)], None, None, 0)]
                rows = None
            plans.append((plan, rows))
        # Slots: arguments and constants as in the trace, then each group's nodes together.
        self.slot = np.full(trace.n_slots, -1, dtype=np.intp)
        self.slot[:base] = np.arange(base)
        at = base
        for key in keys:
            ks = groups[key]
            self.slot[base + np.asarray(ks)] = np.arange(at, at + len(ks))
            at += len(ks)
        self.size = at
        self.numbers_at = at  # the guards' numbers come after the nodes
        self.groups: list[_Group] = []
        at = base
        for key, (plan, rows) in zip(keys, plans):
            stop = at + len(groups[key])
            self.groups.append(_Group(at, stop, key[1], [self._block(*step) for step in plan],
                                      rows))
            at = stop
        self.constants = np.array(trace.constants, dtype=float)
        self.numbers = np.array(trace.numbers, dtype=float)

    def _block(self, op: Op | None, rows: Any, reads: list[np.ndarray], signs: Any,
               grid: tuple[int, int] | None, outer: int) -> _Block:
        """The block of op over these trace slots (one table per input)."""
        trace = self.trace
        slots = [self.slot[r] for r in reads]
        # An input takes a gradient when some slot it reads is an argument or a node.
        grad = [bool(((s < trace.n_in) | (s >= trace.n_leaves)).any()) for s in slots]
        block = _Block(op, rows, tuple(_Slots(s) for s in slots), signs=signs, grid=grid,
                       outer=outer)
        if op is None:
            block.grad = (grad[0],)
            return block
        block.forward = lambda *arrays: rules.run(op, arrays)
        block.partials = tuple(r if r is None or type(r) is float else _on_arrays(r, op.arity + 1)
                               for r in op.partials)
        block.grad = tuple(rule is not None and g for rule, g in zip(op.partials, grad))
        return block

    def at(self, s: int) -> int:
        """Where trace slot s lives in this executor's values."""
        return int(self.slot[s]) if s < self.trace.n_slots else \
            self.numbers_at + s - self.trace.n_slots

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Every slot's value (rows; a column per point of a batch), and what backward reuses."""
        trace = self.trace
        batch = x.shape[1:]
        ones = (1,) * len(batch)
        v = np.empty((self.size + len(self.numbers),) + batch)
        v[:trace.n_in] = x
        v[trace.n_in:trace.n_leaves] = self.constants.reshape((-1,) + ones)
        v[self.size:] = self.numbers.reshape((-1,) + ones)
        saved: list[Any] = []
        with np.errstate(all="ignore"):  # nan and inf are found and named afterwards
            for g in self.groups:
                m = g.stop - g.start
                if g.rows is None:
                    b = g.blocks[0]
                    ins = [r.read(v) for r in b.reads]
                    v[g.start:g.stop] = b.forward(*ins)  # type: ignore[misc]
                    saved.append([(ins, None)])
                    continue
                T = np.empty((g.rows, m) + batch)
                kept: list[tuple[list[np.ndarray], Any]] = []
                for b in g.blocks:
                    ins = [r.read(v) for r in b.reads]
                    if b.grid:  # every outer column against every inner one, by broadcasting
                        spread = [x[axes] for x, axes in zip(ins, _SPREAD[b.outer])]
                        rows = T[b.rows]
                        if isinstance(b.forward, np.ufunc) and isinstance(b.rows, slice):
                            out = b.forward(*spread, out=rows.reshape(spread[0].shape[:1] +
                                                                      b.grid + batch))
                        else:
                            out = b.forward(*spread)  # type: ignore[misc]
                            T[b.rows] = out.reshape(rows.shape)
                    else:
                        out = ins[0] if b.forward is None else b.forward(*ins)
                        T[b.rows] = out
                    if b.signs is not None:
                        T[b.rows] *= _ax(b.signs, 2, batch)
                    kept.append((ins, out))
                v[g.start:g.stop] = _add_rows(T)  # eager's values exactly: products, then adds
                saved.append(kept)
        return v, saved

    def backward(self, v: np.ndarray, saved: list[Any]) -> np.ndarray:
        """d(out)/d(slot) for every slot: each block adds partial · grad into its inputs."""
        G = np.zeros_like(v)
        G[self.at(self.trace.out)] = 1.0
        with np.errstate(all="ignore"):
            for g, kept in zip(reversed(self.groups), reversed(saved)):
                if not g.live:
                    continue
                up = G[g.start:g.stop]  # complete: every use of these nodes came before
                batch = up.shape[1:]
                for b, (ins, out) in zip(g.blocks, kept):
                    if b.grid:  # Σᵢ aᵢₒ·cᵢᵤ: ∂/∂a = c @ upᵀ, ∂/∂c = a @ up
                        d = up.reshape(b.grid + batch)
                        a, c = b.outer, 1 - b.outer
                        for i, x, y in ((a, ins[c], d.swapaxes(0, 1)), (c, ins[a], d)):
                            if b.grad[i]:
                                share = _mm(x, y)
                                b.reads[i].add(G, share if b.signs is None else
                                               share * _ax(b.signs, 2, batch))
                        continue
                    d = up if b.signs is None else up * _ax(b.signs, 2, batch)
                    if g.rows is None:
                        out = v[g.start:g.stop]
                    for rule, slots, takes in zip(b.partials, b.reads, b.grad):
                        if takes:
                            p = rule if type(rule) is float else rule(out, *ins)
                            slots.add(G, d if type(p) is float and p == 1.0 else p * d)
        return G


# A grid block's inputs as (terms, outer, 1) and (terms, 1, inner), by which input is outer.
_SPREAD = (((slice(None), slice(None), None), (slice(None), None)),
           ((slice(None), None), (slice(None), slice(None), None)))


def _ax(a: np.ndarray, ndim: int, batch: tuple[int, ...]) -> np.ndarray:
    """a (with fewer than ndim axes) shaped to broadcast against (ndim axes) + batch."""
    return a.reshape(a.shape + (1,) * (ndim - a.ndim + len(batch)))


def _mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The matrix product over the first two axes, per point of a trailing batch axis."""
    if x.ndim == 2:
        return x @ y
    return np.matmul(x.transpose(2, 0, 1), y.transpose(2, 0, 1)).transpose(1, 2, 0)


def _sum_plan(nodes: list[tuple[Op, tuple[int, ...]]], base: int, ks: list[int],
              terms: list[Any], pattern: tuple[Op | None, ...]
              ) -> tuple[list[Any], np.ndarray | None]:
    """A sum group's blocks as (op, rows, per-input tables of trace slots, signs, grid, outer):
    the terms at the same place made by the same op, together (so all of a sum's products are
    one block, at most one grid); and the order of the nodes that a grid needs (None: they are
    in it already)."""
    plan: list[tuple[Any, ...]] = []
    order = None
    for op in dict.fromkeys(pattern):
        where = [i for i, m in enumerate(pattern) if m is op]
        rows = slice(where[0], where[-1] + 1) if where == list(range(where[0], where[-1] + 1)) \
            else np.array(where)
        at = [[terms[k][i][0] for k in ks] for i in where]  # (terms, nodes) of term slots
        reads = [np.array(at)] if op is None else [
            np.array([[nodes[s - base][1][j] for s in row] for row in at])
            for j in range(op.arity)]
        signs = np.array([[terms[k][i][1] for k in ks] for i in where])
        same_sign = (signs == signs[:, :1]).all()
        grid = _grid(*reads) if op is not None and _is_product(op) and same_sign else None
        if grid is None:
            plan.append((op, rows, reads, None if (signs == 1.0).all() else signs, None, 0))
        else:  # one sign per term
            outer, n_outer, n_inner, columns, order = grid
            plan.append((op, rows, columns, None if (signs == 1.0).all() else signs[:, 0],
                         (n_outer, n_inner), outer))
    return plan, order


def _grid(a: np.ndarray, b: np.ndarray
          ) -> tuple[int, int, int, list[np.ndarray], np.ndarray | None] | None:
    """When node n's columns a[:, n], b[:, n] run over every pair of a's distinct columns with
    b's exactly once (a layer: each neuron's weights with each point's inputs): which input's
    columns are the outer axis of the nodes' order (0: a, 1: b), the numbers of (outer, inner)
    columns, the distinct columns of a and b, (terms, count) each, and the order of the nodes
    that lays them out so (None: they are in it already, one way or the other). Else None."""
    ids, columns = [], []
    for table in (a, b):
        seen: dict[tuple[int, ...], int] = {}
        ids.append(np.array([seen.setdefault(c, len(seen)) for c in map(tuple, table.T.tolist())]))
        columns.append(np.array(list(seen), dtype=np.intp).reshape(len(seen), -1).T)
    na, nb = len(columns[0][0]), len(columns[1][0])
    pairs = ids[0] * nb + ids[1]
    if na * nb != len(pairs) or len(np.unique(pairs)) != len(pairs):
        return None
    if np.array_equal(ids[1] * na + ids[0], np.arange(len(pairs))):
        return 1, nb, na, columns, None  # b-major, as a layer's loop over points builds it
    return 0, na, nb, columns, None if np.array_equal(pairs, np.arange(len(pairs))) else \
        np.argsort(pairs)


def _on_arrays(rule: Callable[..., Any], arity: int) -> Callable[..., np.ndarray]:
    """A partial rule over arrays: the rule itself, written in the rule language; a rule of a
    user's that branches with `if` (which arrays refuse) runs one element at a time instead."""
    each = rules.elementwise(rule, arity)

    def run(*arrays: Any) -> np.ndarray:
        try:
            with np.errstate(all="ignore"):
                return np.asarray(rule(*arrays), dtype=float) + np.zeros_like(arrays[0])
        except (TypeError, ValueError):
            return each(*arrays)
    return run


def _is_product(op: Op) -> bool:
    """out = x·y, read from the rules: ∂out/∂x is y and ∂out/∂y is x."""
    return op.arity == 2 and (op.partial_written(0), op.partial_written(1)) == op.inputs[::-1]


# --- the program: a function's traces, one per pattern of guard outcomes -------------------------

class Program:
    """f compiled: `program(*args)` = (f(*args), (∂f/∂arg for each arg)) by replaying f's trace;
    arrays of one shape give a value and gradients per point. A guard that flips retraces."""

    def __init__(self, f: Callable[..., Any], *, has_aux: bool = False,
                 strict: bool = False) -> None:
        self.f = f
        self.has_aux = has_aux
        self.strict = strict
        self.traces: list[Trace] = []
        self.name = getattr(f, "__name__", "f")
        if not self.name.isidentifier():
            self.name = "f"
        try:
            self._params = [p.name for p in inspect.signature(f).parameters.values()
                            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            star = any(p.kind is p.VAR_POSITIONAL
                       for p in inspect.signature(f).parameters.values())
        except (TypeError, ValueError):
            self._params, star = [], True
        self.arity: int | None = None if star else len(self._params)
        self._leaf_args: list[Value | None] = []  # arguments that were leaf Values
        self._rebuild: Callable[[list[Any]], Any] = lambda values: None
        functools.update_wrapper(self, f)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Program({self.name}, {len(self.traces)} trace{'s' * (len(self.traces) != 1)})"

    # --- tracing ---
    def trace(self, *args: Any) -> Trace:
        """Run f once on Values at args (numbers, or leaf Values that become the inputs)."""
        inputs: list[Value] = []
        names: dict[Value, str] = {}
        if any(isinstance(a, np.ndarray) for a in args):  # a batch: trace at its first point
            args = tuple(np.asarray(a).flat[0] if isinstance(a, np.ndarray) else a for a in args)
        for i, a in enumerate(args):
            if isinstance(a, Value):
                if a.op is not None or a.constant or a in names:
                    raise TypeError(f"{self.name}: argument {i} is a Value made by an op, a "
                                    f"constant or passed twice; pass a leaf or a number")
                leaf = a
            else:
                leaf = Value(_number(a, self._arg_name(i)))
            names[leaf] = a.label if isinstance(a, Value) and a.label else self._arg_name(i)
            inputs.append(leaf)
        watcher = _Tracer()
        # The collector stays paused until the graph is dropped: it would rescan every node.
        with collector_paused():
            token = tracer.set(watcher)
            try:
                with enable_grad():
                    result = self.f(*inputs)
            finally:
                tracer.reset(token)
            out, aux = result if self.has_aux else (result, None)
            if not isinstance(out, Value):
                out = Value(_number(out, f"the result of {self.name}"))
            flat, self._rebuild = _flatten(aux)
            if out not in names and not out.label:
                names[out] = self.name
            trace = Trace(inputs, [out, *flat], watcher.comparisons, names)
            del result, out, aux, flat, watcher
        self.traces.append(trace)
        self.arity = len(args)
        self._leaf_args = [a if isinstance(a, Value) else None for a in args]
        return trace

    def _arg_name(self, i: int) -> str:
        return self._params[i] if i < len(self._params) else f"x{i}"

    def listing(self) -> str:
        """The latest trace's forward and backward passes, one line per step."""
        if not self.traces:
            raise ValueError(f"{self.name} has not been traced yet: call it once first")
        return self.traces[-1].listing()

    # --- replay ---
    def __call__(self, *args: Any) -> tuple[Any, Any]:
        """(f(*args), tuple of ∂f/∂argᵢ); for arrays, each is an array of the args' shape."""
        x, shape = self._inputs(args)
        if shape is None:
            value, aux, grads = self._point(x)
            out: Any = (value, self._rebuild(aux)) if self.has_aux else value
            return out, tuple(grads)
        value_b, aux_b, grads_b = self._batch(x.reshape(len(x), -1))
        value_a = value_b.reshape(shape)
        grads_t = tuple(g.reshape(shape) for g in grads_b)
        if self.has_aux:
            return (value_a, self._rebuild([a.reshape(shape) for a in aux_b])), grads_t
        return value_a, grads_t

    def _inputs(self, args: Sequence[Any]) -> tuple[np.ndarray, tuple[int, ...] | None]:
        """The arguments as one float array (a row each), and the batch shape (None: numbers)."""
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument"
                            f"{'s' * (self.arity != 1)}, got {len(args)}")
        if set(map(type, args)) == {float}:  # the common case, checked in one pass
            x = np.array(args, dtype=float)
            if np.isfinite(x).all():
                return x, None
        shape: tuple[int, ...] | None = None
        for i, a in enumerate(args):
            if isinstance(a, Value):
                raise TypeError(f"{self.name}: argument {self._arg_name(i)} is a Value; a "
                                "compiled program takes numbers or arrays and builds no graph, "
                                "so it cannot be differentiated again (create_graph): call "
                                f"{self.name} itself on Values for that")
            if isinstance(a, np.ndarray) or isinstance(a, (list, tuple)):
                s = np.shape(a)
                if shape is not None and s != shape:
                    raise ValueError(f"{self.name}: argument {self._arg_name(i)} has shape {s}, "
                                     f"the others {shape}: batched arguments share one shape")
                shape = s
        rows: list[Any] = []
        for i, a in enumerate(args):
            name = self._arg_name(i)
            if shape is None:
                rows.append(_number(a, name))
                continue
            arr = _array(a, name)
            rows.append(np.broadcast_to(arr, shape))
        x = np.array(rows, dtype=float)
        if shape is not None and x.size == 0:
            raise ValueError(f"{self.name}: the batch is empty (shape {shape})")
        return x, shape

    def _point(self, x: np.ndarray) -> tuple[float, list[float], list[float]]:
        """Value, aux values and input grads at one point: the first trace whose guards hold."""
        if not self.traces:
            self.trace(*x.tolist())
        for trace in self._candidates():
            if trace.narrow:
                vals = trace.floats.forward(x.tolist())
                if trace.guards and not trace.check_guards(vals.__getitem__):
                    self._flipped(trace, vals.__getitem__, x)
                    continue
                if not all(map(math.isfinite, vals)):
                    self._raise_eager(x, None)
                try:
                    grads = trace.floats.backward(vals)
                except (ArithmeticError, ValueError):  # a rule undefined here: eager says so
                    grads = [_NAN]
                if not all(map(math.isfinite, grads)):
                    self._raise_eager(x, None)
                return vals[trace.out], [vals[s] for s in trace.aux], grads[:trace.n_in]
            # One point as 1-d rows: np.add.at is much faster on them than on columns.
            ok, value_b, aux_b, grads_b = self._replay(trace, x, None)
            if ok[0]:
                return (float(value_b[0]), [float(a[0]) for a in aux_b],
                        grads_b[:, 0].tolist())
        self.trace(*x.tolist())
        return self._point(x) if self._accepts(self.traces[-1], x) else self._not_a_function()

    def _batch(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """Values, aux values and input grads at every column of x, trace by trace."""
        n = x.shape[1]
        value = np.empty(n)
        grads = np.empty((x.shape[0], n))
        aux: list[np.ndarray] | None = None
        todo = np.arange(n)
        if not self.traces:
            self.trace(*x[:, 0].tolist())
        while todo.size:
            for trace in self._candidates():
                ok, val, aux_t, g = self._replay(trace, x[:, todo], todo)
                if aux is None:
                    aux = [np.empty(n) for _ in aux_t]
                done = todo[ok]
                value[done] = val[ok]
                grads[:, done] = g[:, ok]
                for a, b in zip(aux, aux_t):
                    a[done] = b[ok]
                todo = todo[~ok]
                if not todo.size:
                    break
            else:
                point = x[:, todo[0]]
                self.trace(*point.tolist())
                if not self._accepts(self.traces[-1], point):
                    self._not_a_function()
        return value, aux or [], grads

    def _candidates(self) -> list[Trace]:
        return self.traces[::-1]  # the newest first: a retrace is made for the current branch

    def _replay(self, trace: Trace, x: np.ndarray, index: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """(guards hold, value, aux, input grads) per column of x (x 1-d: one point, index
        None), by the numpy executor; raises the eager engine's error at the first point whose
        guards hold but whose values or gradients are not finite."""
        ex = trace.arrays
        v, saved = ex.forward(x)
        if x.ndim == 1:
            x = x[:, None]
        cols = v.reshape(len(v), -1)  # a view: one column per point
        ok = np.broadcast_to(trace.check_guards(lambda s: cols[ex.at(s)]), (x.shape[1],))
        if trace.guards and not ok.all():
            self._flipped(trace, lambda s: cols[ex.at(s)][~ok], x[:, ~ok][:, 0])
        bad = ok & ~np.isfinite(cols[trace.n_in:ex.size]).all(axis=0)
        if bad.any():
            first = int(np.argmax(bad))
            self._raise_eager(x[:, first], None if index is None else index[first])
        G = ex.backward(v, saved).reshape(cols.shape)
        bad = ok & ~(np.isfinite(G[:trace.n_in]).all(axis=0) &
                     np.isfinite(G[trace.n_leaves:ex.size]).all(axis=0))
        if bad.any():
            first = int(np.argmax(bad))
            self._raise_eager(x[:, first], None if index is None else index[first])
        return ok, cols[ex.at(trace.out)], [cols[ex.at(s)] for s in trace.aux], G[:trace.n_in]

    def _flipped(self, trace: Trace, value: Callable[[int], Any], x: np.ndarray) -> None:
        """strict: raise GuardError naming the comparison that came out the other way."""
        if self.strict:
            g = trace.first_flip(value)
            raise GuardError(f"{self.name}: the comparison {g.text} was {g.outcome} when traced "
                             f"and is {not g.outcome} at {_args(x)} ({g.where}); "
                             f"compile without strict=True to retrace instead")

    def _accepts(self, trace: Trace, x: np.ndarray) -> bool:
        """Whether a trace's guards hold at the point x (true of the point it was traced at)."""
        if not trace.guards:
            return True
        if trace.narrow:
            return bool(trace.check_guards(trace.floats.forward(x.tolist()).__getitem__))
        v, _ = trace.arrays.forward(x[:, None])
        return bool(np.all(trace.check_guards(lambda s: v[trace.arrays.at(s)])))

    def _not_a_function(self) -> Any:
        raise RuntimeError(f"{self.name} takes a different branch each time it is traced at the "
                           "same arguments: it depends on more than its arguments (random "
                           "numbers? state?), so it cannot be compiled")

    def _raise_eager(self, x: np.ndarray, index: Any) -> None:
        """Run f eagerly at the point x so that the engine raises its own error there (naming
        the op and its values), with the batch index added; else say what replay found."""
        args = [float(a) for a in x]
        # A leaf Value argument is the very Value f reads (a model's weight): set it for the run.
        held = [(v, v.data) for v in self._leaf_args if v is not None]
        try:
            for v, a in zip(self._leaf_args, args):
                if v is not None:
                    v.data = a
            value_and_grad(lambda *a: self._first(self.f(*a)), tuple(range(len(args))))(*args)
        except (ArithmeticError, ValueError) as err:
            where = f" (batch index {index})" if index is not None else ""
            raise type(err)(f"{err}{where}") from None
        finally:
            for v, old in held:
                v.data = old
        raise ArithmeticError(f"{self.name}: replay at {_args(x)} gave a value or gradient that "
                              f"is not finite, but the eager engine computes it: a record's "
                              f"vectorised rule disagrees with its scalar one")

    def _first(self, result: Any) -> Any:
        return result[0] if self.has_aux else result


def _args(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{float(a)!r}" for a in x) + ")"


def _number(a: Any, what: str) -> float:
    """a as a finite float, refused by name (like Value's own check) otherwise."""
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, np.integer,
                                                             np.floating)):
        raise TypeError(f"{what} needs a real number, got {type(a).__name__}: {a!r}")
    x = float(a)
    if not math.isfinite(x):
        raise ValueError(f"{what} needs a finite number, got {x!r}")
    return x


def _array(a: Any, what: str) -> np.ndarray:
    """a as a float array with every element finite, refused by name and index otherwise."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{what} needs real numbers, got an array of {arr.dtype}")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise ValueError(f"{what} needs finite numbers, got {float(arr[i])!r} at index "
                         f"{i[0] if len(i) == 1 else i}")
    return arr


def _flatten(aux: Any) -> tuple[list[Value], Callable[[list[Any]], Any]]:
    """The Values in a nested list/tuple (numbers become Values), and a function that puts
    numbers back in the same places."""
    flat: list[Value] = []

    def walk(x: Any) -> Any:  # recursion over the user's nesting, never over a graph
        if isinstance(x, (list, tuple)):
            return type(x)(walk(e) for e in x) if isinstance(x, list) else tuple(walk(e)
                                                                                 for e in x)
        flat.append(x if isinstance(x, Value) else Value(_number(x, "an aux output")))
        return len(flat) - 1

    shape = walk(aux) if aux is not None else None

    def rebuild(values: list[Any]) -> Any:
        def put(s: Any) -> Any:
            if isinstance(s, list):
                return [put(e) for e in s]
            if isinstance(s, tuple):
                return tuple(put(e) for e in s)
            return values[s]
        return put(shape) if shape is not None else None

    return flat, rebuild


def compile(f: Callable[..., Any] | None = None, /, *example_args: Any, has_aux: bool = False,
            strict: bool = False) -> Any:
    """f as a Program: program(*args) = (f(*args), ∇f(args)) by replaying f's graph.

    Traces at example_args now, or at the first call (`@compile`, `@compile(strict=True)`).
    has_aux: f returns (value, aux), aux Values (nested in lists/tuples) returned as numbers.
    strict: a guard that flips raises GuardError instead of retracing.
    """
    if f is None:
        return functools.partial(compile, has_aux=has_aux, strict=strict)
    program = Program(f, has_aux=has_aux, strict=strict)
    if example_args:
        program.trace(*example_args)
    return program
