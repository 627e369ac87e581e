"""Trace: run f once on Values and record what it did — its graph as a tape of equations, and
every comparison (and, with the engine's hooks, every number read out of a Value, every detach
and every op under no_grad) as a guard or a stop-gradient step."""

from __future__ import annotations

import linecache
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import attrgetter, is_, is_not, itemgetter
from typing import Any, NamedTuple

import numpy as np

from .. import engine, ops
from ..engine import Constant, Value
from ..modes import collector_paused, grad_mode, tracer
from ..ops import Op
from ..pytree import tree_flatten, tree_unflatten
from .tape import Columns, Guard, Tape

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
        self.nodes.append(out)  # a step in the order f made it

    def unrecorded(self, op: Op, inputs: tuple[Value, ...], out: Value) -> None:
        """out = op(inputs) under no_grad: a step recomputed at replay, with no gradient."""
        self.made[out] = (op, inputs)
        self.nodes.append(out)


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
        custom = next((op for op in set(map(_OP, recorder.nodes))
                       if op is not None and op.vjp is not None), None)
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


def tape_of(inputs: list[Value], outputs: list[Value], recorder: Recorder,
            given: dict[Value, str], bound: dict[Value, int]) -> Tape:
    """The tape of a recorded run: slots for the arguments, captured leaves, constants, then
    one per op (and off-graph step) in the order f made them — eager backward's order, put
    back where the two differ and it matters; then the guards' numbers. One pass over the
    nodes; everything after it works on columns of ints."""
    made = recorder.made
    steps = recorder.nodes
    m = len(steps)
    # Every step's op and inputs, gathered by C loops (map, dict lookups): no Python code
    # runs per node. A step made off the graph (detach, no_grad) reads its recorded inputs.
    op_of, xs, ys = list(map(_OP, steps)), list(map(_X, steps)), list(map(_Y, steps))
    # What few nodes have (a label, a third input) is in their `_rare` slot: looked at there.
    rare: list[tuple[int, Any]] = [(k, steps[k]._rare)
                                   for k in compress(range(m), map(_RARE, steps))]
    rests = [k for k, extra in rare if extra.rest]
    if made:
        for k in compress(range(m), map(made.__contains__, steps)):
            op_of[k], parents = made[steps[k]]
            xs[k], ys[k] = parents[0], parents[1] if len(parents) > 1 else None
            if len(parents) > 2:
                rests.append(k)
        rests.sort()
    # Each Value read is found by its id (unique while it lives, and every Value here lives
    # until the tape is built) in sorted arrays: numpy searches, not a dict of millions.
    at_step = _Sorted(np.fromiter(map(id, steps), dtype=np.int64, count=m))
    none = np.fromiter(map(is_, ys, repeat(None)), dtype=bool, count=m)
    reads = np.empty(2 * m, dtype=np.int64)  # x, y of each step in turn
    reads[0::2] = np.fromiter(map(id, xs), dtype=np.int64, count=m)
    reads[1::2] = np.fromiter(map(id, ys), dtype=np.int64, count=m)
    prov = np.full(2 * m, -1, dtype=np.int64)  # provisional slots: step k ≥ 0, leaf -1 - j
    # Where to search: a read made by no op is a leaf (unless f made it off the graph); a
    # step's first input is most often the step just before it (a chain, a running sum).
    search = np.ones(2 * m, dtype=bool)
    if not made:
        search[1::2] = np.fromiter(map(is_not, map(getattr, ys, repeat("_op"), repeat(None)),
                                       repeat(None)), dtype=bool, count=m)
    if m > 1:
        previous = np.zeros(m, dtype=bool)
        previous[1:] = np.fromiter(map(is_, xs[1:], steps), dtype=bool, count=m - 1)
        prov[0::2][previous] = np.flatnonzero(previous) - 1
        search[0::2] &= ~previous
    search[1::2] &= ~none
    where = np.flatnonzero(search)
    prov[where] = at_step.find(reads[where])
    none2 = np.zeros(2 * m, dtype=bool)
    none2[1::2] = none
    prov[none2] = _NONE
    leafy = np.flatnonzero(prov == -1)
    leaves: list[Value] = list(inputs)  # the arguments first
    own: dict[int, int] = {id(v): -1 - j for j, v in enumerate(inputs)}
    at_leaf = None
    if leafy.size:
        ids = reads[leafy]
        which = _Sorted(np.array(list(own), dtype=np.int64),
                        np.array(list(own.values()), dtype=np.int64)).find(ids, 0) if own else \
            np.zeros(ids.size, dtype=np.int64)
        is_input = which != 0  # an argument's provisional slot is negative
        prov[leafy[is_input]] = which[is_input]
        leafy, ids = leafy[~is_input], ids[~is_input]
    if leafy.size:
        uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        rank = np.empty(uniq.size, dtype=np.int64)  # per sorted id: its order of first read
        if uniq.size == ids.size:  # each read once (a chain's constants)
            rank[inverse] = np.arange(ids.size)
            picked = leafy
        else:
            by_first = np.argsort(first, kind="stable")
            rank[by_first] = np.arange(uniq.size)
            picked = leafy[first[by_first]]
        prov[leafy] = -1 - (len(leaves) + rank[inverse.ravel()])
        leaves += _items(picked, xs, ys)
        at_leaf = _Sorted(uniq, -1 - len(inputs) - rank, ordered=True)
    in0 = array("i", prov[0::2].astype(np.int32).tobytes())
    in1 = array("i", prov[1::2].astype(np.int32).tobytes())
    del reads, prov

    def leaf(v: Value) -> int:  # its provisional slot, a new leaf when first met
        i = id(v)
        k = at_step.one(i)
        if k is None and at_leaf is not None:
            k = at_leaf.one(i)
        if k is None:
            k = own.get(i)
        if k is None:
            k = own[i] = -1 - len(leaves)
            leaves.append(v)
        return k

    ops_ = list(dict.fromkeys(op_of))
    opcode = {op: c for c, op in enumerate(ops_)}
    code = array("i", map(opcode.__getitem__, op_of))
    del op_of, xs, ys
    for op in ops_:  # the table's records are tested against their forward
        if op not in ops.OPS:
            k = code.index(opcode[op])
            node = steps[k]
            parents = made[node][1] if made and node in made else node.parents
            _check_array_forward(op, [p._data for p in parents], node._data)
    more: dict[int, tuple[int, ...]] = {}
    for k in rests:
        node = steps[k]
        parents = made[node][1] if made and node in made else node.parents
        more[k] = tuple(leaf(p) for p in parents)
    comparisons = recorder.comparisons
    for cmp in comparisons:  # operands are read even off the graph
        leaf(cmp.left)
        if isinstance(cmp.right, Value):
            leaf(cmp.right)
    for v in outputs:
        leaf(v)
    # The leaves in their classes: arguments, captured Values (read at each replay), constants.
    n_in = len(inputs)
    fresh = recorder.fresh
    rest = leaves[n_in:]
    r = len(rest)
    is_bound = np.fromiter(map(bound.__contains__, rest), dtype=bool, count=r) if bound \
        else np.zeros(r, dtype=bool)
    is_constant = np.fromiter(map(is_, map(type, rest), repeat(Constant)), dtype=bool, count=r)
    if fresh:
        is_constant |= np.fromiter(map(fresh.__contains__, rest), dtype=bool, count=r)
    is_constant &= ~is_bound
    is_captured = ~is_bound & ~is_constant
    captured = list(compress(rest, is_captured.tolist()))
    constants = list(compress(rest, is_constant.tolist()))
    place = np.empty(len(leaves), dtype=np.int64)
    place[:n_in] = np.arange(n_in)
    tail = place[n_in:]
    tail[is_bound] = [bound[v] for v in compress(rest, is_bound.tolist())]
    tail[is_captured] = n_in + np.arange(len(captured))
    tail[is_constant] = n_in + len(captured) + np.arange(len(constants))
    del rest
    first_constant = n_in + len(captured)
    base = first_constant + len(constants)

    def final(col: array) -> array:  # provisional slots to the tape's (-1: no input)
        p = _ints(col)
        out = p + base
        leafy = (p < 0) & (p != _NONE)
        out[leafy] = place[-1 - p[leafy]]
        out[p == _NONE] = -1
        return array("i", out.astype(np.int32).tobytes())

    def one(p: int) -> int:
        return base + p if p >= 0 else int(place[-1 - p])

    in0, in1 = final(in0), final(in1)
    more = {k: tuple(one(p) for p in ins) for k, ins in more.items()}
    stops = frozenset(base + k for k in compress(range(m), map(made.__contains__, steps))) \
        if made else frozenset()
    out = one(leaf(outputs[0]))
    columns = Columns(ops_, code, in0, in1, _live(out - base, in0, in1, more, stops, base),
                      more)
    moved = _eager_order(columns, out - base, base)
    new = None
    if moved is not None:
        columns, new = moved

    def slot(p: int) -> int:  # a provisional slot's final one, after any reordering
        s = one(p)
        return s if new is None or s < base else base + int(new[s - base])

    labels: dict[int, str] = {}
    for v, name in given.items():
        if v in inputs or v is outputs[0]:
            labels.setdefault(slot(leaf(v)), name)
    # A captured Value is named as it was when traced, a constant by its label if it has one
    # (in its `_rare` slot, which every Constant shares unlabelled): the few leaves to look
    # at are found by C loops (map, compress), not a Python step per leaf.
    rares = list(map(_RARE, leaves))
    has_rare = np.fromiter(map(is_not, rares, repeat(None)), dtype=bool, count=len(leaves))
    labelled = np.zeros(len(leaves), dtype=bool)
    with_rare = np.flatnonzero(has_rare)
    labelled[with_rare] = np.fromiter(map(bool, map(_LABEL, compress(rares, has_rare.tolist()))),
                                      dtype=bool, count=with_rare.size)
    del rares
    named = (place >= n_in) & ((place < first_constant) | labelled)
    for j in np.flatnonzero(named).tolist():
        v, s = leaves[j], int(place[j])
        if s < first_constant:
            labels[s] = v.label or repr(v._data)
        elif v.label:
            labels[s] = v.label
    for k, extra in rare:
        if extra.label:
            labels.setdefault(slot(k), extra.label)
    if new is not None:
        stops = frozenset(base + int(new[s - base]) for s in stops)
    tape = Tape(n_in, captured, array("d", map(_DATA, constants)), columns,
                slot(leaf(outputs[0])), [slot(leaf(v)) for v in outputs[1:]], [], [], labels,
                stops)
    if comparisons:
        tape.guards, tape.numbers = _guards(tape, comparisons, lambda v: slot(leaf(v)))
    return tape


_NONE = -2**31  # a provisional "no second input"


def _items(picked: np.ndarray, xs: list[Any], ys: list[Any]) -> list[Any]:
    """The Values read at these positions of (x, y of step 0, x, y of step 1, …)."""
    if not picked.size:
        return []
    if picked.size == 1:
        q = int(picked[0])
        return [(ys if q % 2 else xs)[q // 2]]
    if (picked % 2 == 1).all():  # every one a second input (a chain's constants)
        return list(itemgetter(*(picked // 2).tolist())(ys))
    inter = list(chain.from_iterable(zip(xs, ys)))
    return list(itemgetter(*picked.tolist())(inter))


class _Sorted:
    """Ids in sorted order, each with a number (by default its position before sorting)."""

    def __init__(self, ids: np.ndarray, values: np.ndarray | None = None,
                 ordered: bool = False) -> None:
        if ordered:  # already sorted, values given in that order
            assert values is not None
            self.ids, self.values = ids, values
            return
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        self.values = order if values is None else values[order]

    def find(self, ids: np.ndarray, missing: int = -1) -> np.ndarray:
        """Each id's number, `missing` where it is not here."""
        if not self.ids.size:
            return np.full(ids.size, missing, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), self.ids.size - 1)
        return np.where(self.ids[pos] == ids, self.values[pos], missing).astype(np.int64)

    def one(self, i: int) -> int | None:
        """One id's number, or None."""
        pos = int(np.searchsorted(self.ids, i))
        if pos < self.ids.size and int(self.ids[pos]) == i:
            return int(self.values[pos])
        return None
_OP, _X, _Y = attrgetter("_op"), attrgetter("_x"), attrgetter("_y")
_RARE, _DATA = attrgetter("_rare"), attrgetter("_data")
_LABEL = attrgetter("label")  # of a Rare


def _ints(col: array) -> np.ndarray:
    """An array('i') column as int64 numbers."""
    return np.frombuffer(col, dtype=np.int32).astype(np.int64) if len(col) else \
        np.zeros(0, dtype=np.int64)


def _live(out: int, in0: array, in1: array, more: dict[int, tuple[int, ...]],
          stops: frozenset[int], base: int) -> bytearray:
    """Which equations the output's gradient flows through: those it depends on, not through
    a stop-gradient step (one sweep, newest first)."""
    m = len(in0)
    live = bytearray(m)
    if out < 0:
        return live
    if not stops and not more:  # every equation read by a later one but the output: all live
        reads = np.concatenate([_ints(in0), _ints(in1)]) - base
        readers = np.bincount(reads[reads >= 0], minlength=m)
        if readers[out] == 0 and np.count_nonzero(readers == 0) == 1:
            return bytearray(b"\x01" * m)
    live[out] = 1
    for k in range(out, -1, -1):
        if not live[k] or (stops and base + k in stops):
            if stops and base + k in stops:
                live[k] = 0
            continue
        if more and k in more:
            for p in more[k]:
                if p >= base:
                    live[p - base] = 1
            continue
        a = in0[k] - base
        if a >= 0:
            live[a] = 1
        b = in1[k] - base
        if b >= 0:
            live[b] = 1
    return live


def _eager_order(columns: Columns, out: int, base: int) -> tuple[Columns, np.ndarray] | None:
    """The equations in eager backward's order (depth first from the output, first input
    first), where that differs from the order f made them and the difference can change a
    gradient: only a slot receiving three or more contributions adds them in an order that
    matters (a + b = b + a exactly). None when nothing moves; else the reordered columns and
    each equation's new index."""
    m = len(columns.code)
    if out < 0 or not m:
        return None
    live = np.frombuffer(columns.live, dtype=np.uint8).astype(bool)
    reads = [_ints(c)[live] for c in (columns.in0, columns.in1)]
    reads += [np.array([p for k, ins in columns.more.items() if columns.live[k]
                        for p in ins[2:]], dtype=np.int32)]
    flat = np.concatenate(reads).astype(np.int64)
    if not flat.size or np.bincount(flat[flat >= 0]).max() < 3:
        return None
    more = columns.more
    # Inputs as equation indices (negative: a leaf or none), in plain lists: the walk below
    # is the one Python step per equation left, so it reads them without conversions.
    in0, in1 = (_ints(columns.in0) - base).tolist(), (_ints(columns.in1) - base).tolist()
    placed = bytearray(m)
    order: list[int] = []
    append = order.append
    stack = [out]
    pop, push = stack.pop, stack.append
    while stack:  # depth first over ints, as engine.topological_order walks the nodes
        k = pop()
        if k < 0:
            append(~k)
            continue
        if placed[k]:
            continue
        placed[k] = 1
        push(~k)
        if more and k in more:
            for p in reversed(more[k]):
                if p >= base and not placed[p - base]:
                    push(p - base)
            continue
        b = in1[k]
        if b >= 0 and not placed[b]:
            push(b)
        a = in0[k]
        if a >= 0 and not placed[a]:
            push(a)
    if order == list(range(len(order))):
        return None
    rest = [k for k in range(m) if not placed[k]]
    perm = np.array(order + rest, dtype=np.int64)
    new = np.empty(m, dtype=np.int64)
    new[perm] = np.arange(m)

    def moved(col: array) -> array:
        c = _ints(col)[perm]
        eq = c >= base
        c[eq] = base + new[c[eq] - base]
        return array("i", c.astype(np.int32).tobytes())

    code = array("i", _ints(columns.code)[perm].astype(np.int32).tobytes())
    live_b = bytearray(np.frombuffer(columns.live, dtype=np.uint8)[perm].tobytes())
    more_new = {int(new[k]): tuple(p if p < base else base + int(new[p - base]) for p in ins)
                for k, ins in more.items()}
    return Columns(columns.ops, code, moved(columns.in0), moved(columns.in1), live_b, more_new), new


def _guards(tape: Tape, comparisons: list[Comparison], slot: Callable[[Value], int]
            ) -> tuple[list[Guard], list[float]]:
    """Each comparison as a guard over slots (a number compared gets a slot after the
    equations'), written with the tape's names."""
    names = tape.names
    numbers: list[float] = []
    guards: list[Guard] = []
    for c in comparisons:
        if isinstance(c.right, Value):
            r = slot(c.right)
            right_text = names[r]
        else:
            numbers.append(float(c.right))
            r = tape.n_slots + len(numbers) - 1
            right_text = repr(float(c.right))
        left = slot(c.left)
        guards.append(Guard(left, c.op, r, c.outcome,
                            f"{c.shown.format(names[left])} {c.op} {right_text}", c.where))
    return guards, numbers


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


def flatten(aux: Any, as_number: Callable[[Any, str], float]
            ) -> tuple[list[Value], Callable[[list[Any]], Any]]:
    """The Values in a pytree (autograd_core.pytree: tuples, lists, dicts, namedtuples, None;
    numbers become Values), and a function that puts numbers back in the same places."""
    leaves, treedef = tree_flatten(aux)
    flat = [x if isinstance(x, Value) else Value(as_number(x, "an aux output")) for x in leaves]

    def rebuild(values: list[Any]) -> Any:
        return tree_unflatten(treedef, list(values))

    return flat, rebuild
