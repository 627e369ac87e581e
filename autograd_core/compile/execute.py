"""Executors of a tape: a flat loop over floats (one point; eager's arithmetic exactly) and a
numpy executor over a schedule of groups (one point or a batch of points at once)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import rules
from ..ops import Op
from .matmul import Grid, grid_backward, grid_forward
from .passes import Schedule
from .tape import Tape

_NAN = math.nan


# --- floats: one Python loop, the records' scalar rules -----------------------------------------

class FloatValues:
    """What a forward replay over floats leaves for the caller: the value of each slot read
    after it (`values[slot]`: the output, aux outputs, guards' operands and numbers), whether
    every value was finite, and the state backward reads."""

    __slots__ = ("tape", "state", "at", "finite", "vals")

    def __init__(self, tape: Tape, result: Any, at: dict[int, int] | None,
                 vals: list[float] | None = None) -> None:
        self.tape = tape
        self.at = at
        self.vals = vals
        if vals is not None:  # the interpreter's: every slot
            self.state = None
            self.finite = all(map(math.isfinite, vals))
        else:
            self.state = result
            self.finite = bool(result[0])

    def __getitem__(self, s: int) -> float:
        if self.vals is not None:
            return self.vals[s]
        n = self.tape.n_slots
        if s >= n:
            return self.tape.numbers[s - n]
        return self.state[self.at[s]]  # type: ignore[index]


class FloatExecutor:
    """A tape replayed by one Python loop over floats with the records' scalar rules: the eager
    engine's arithmetic exactly, without a node object or a numpy call per node. It reads the
    tape's columns as they are (nothing per equation is built), and is what runs where an op
    is undefined (nan marks the value) or a tape is too long and irregular to generate."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        c = tape.columns
        # Per record: its forward, and per input its rule (None: no gradient flows).
        self.forwards = [op.forward for op in c.ops]
        self.rules = [op.partials for op in c.ops]

    def forward(self, x: list[float]) -> FloatValues:
        """Every slot's value; nan where an op is undefined (found and named by the caller)."""
        tape = self.tape
        vals = [*x, *tape.leaf_values()]
        try:
            self._run(vals, self.forwards)
        except (ArithmeticError, ValueError, TypeError):  # find the others: a guard may explain
            del vals[tape.n_leaves:]
            self._run(vals, [functools.partial(rules.or_nan, f) for f in self.forwards])
        vals += tape.numbers
        return FloatValues(tape, None, None, vals)

    def _run(self, vals: list[float], forwards: list[Callable[..., float]]) -> None:
        c = self.tape.columns
        push = vals.append
        more = c.more
        for k, (code, a, b) in enumerate(zip(c.code, c.in0, c.in1)):
            if b < 0:
                push(forwards[code](vals[a]))
            elif more and k in more:
                push(forwards[code](*[vals[j] for j in more[k]]))
            else:
                push(forwards[code](vals[a], vals[b]))

    def backward(self, values: FloatValues) -> list[float]:
        """d(out)/d(argument) for every argument: the chain rule, one equation at a time,
        newest first (a constant's or captured Value's rule is never evaluated, as in eager)."""
        tape = self.tape
        vals = values.vals
        assert vals is not None
        c = tape.columns
        n_in, n_leaves = tape.n_in, tape.n_leaves
        grads = [0.0] * tape.n_slots
        grads[tape.out] = 1.0
        live, rules_, inputs = c.live, self.rules, c.inputs
        for k in range(len(c.code) - 1, -1, -1):
            if not live[k]:
                continue
            node = n_leaves + k
            g = grads[node]
            out = vals[node]
            parents = inputs(k)
            args = [vals[p] for p in parents]
            for p, rule in zip(parents, rules_[c.code[k]]):
                if rule is None or n_in <= p < n_leaves:
                    continue
                grads[p] += (rule if type(rule) is float else rule(out, *args)) * g
        return grads[:n_in]


# --- numpy: groups of same-recipe equations at one level ----------------------------------------

def _add_rows(T: np.ndarray) -> np.ndarray:
    """T[0] + T[1] + … added in that order, as eager's chain of adds does. numpy's reduce
    over the first axis adds whole rows in order when a row has more than one element; over
    one column it would sum pairwise, so a single node accumulates instead."""
    return np.add.reduce(T, axis=0) if T[0].size > 1 else np.add.accumulate(T, axis=0)[-1]


class Slots:
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
class Kernel:
    """A block ready to run: its op's array forward and partials, the slots it reads in the
    executor's numbering, which inputs take a gradient."""

    op: Op | None
    rows: Any
    reads: tuple[Slots, ...]
    forward: Callable[..., Any] | None
    partials: tuple[Any, ...]
    grad: tuple[bool, ...]
    signs: np.ndarray | None
    grid: Grid | None


@dataclass
class Step:
    """A group in the executor's slots start..stop."""

    start: int
    stop: int
    live: bool
    rows: int | None
    kernels: list[Kernel]


class ArrayExecutor:
    """A tape replayed with numpy over its schedule: each group a few calls forward and
    backward, on a batch of points at once if given one.

    Forward makes the same products and adds them in eager's order, so relu, max and the
    guards choose as eager would even at a tie (numpy's tanh or exp may differ from math's in
    the last bit). Backward adds a gradient's parts in another order (bincount, matrix
    products): gradients agree with eager's to rounding."""

    def __init__(self, tape: Tape, schedule: Schedule) -> None:
        self.tape = tape
        base = tape.n_leaves
        # Slots: arguments and leaves as in the tape, then each group's equations together.
        self.slot = np.full(tape.n_slots, -1, dtype=np.intp)
        self.slot[:base] = np.arange(base)
        at = base
        for group in schedule.groups:
            self.slot[base + np.asarray(group.eqns)] = np.arange(at, at + len(group.eqns))
            at += len(group.eqns)
        self.size = at
        self.steps: list[Step] = []
        at = base
        for group in schedule.groups:
            stop = at + len(group.eqns)
            kernels = [self._kernel(b.op, b.rows, b.reads, b.signs, b.grid) for b in group.blocks]
            self.steps.append(Step(at, stop, group.live, group.rows, kernels))
            at = stop
        self.numbers = np.array(tape.numbers, dtype=float)
        self.leaves = np.array(tape.leaf_values(), dtype=float)  # captured ones read per call

    def _kernel(self, op: Op | None, rows: Any, reads: list[np.ndarray], signs: Any,
                grid: Grid | None) -> Kernel:
        """A block of op over these tape slots (one table per input), in executor slots."""
        tape = self.tape
        slots = [self.slot[r] for r in reads]
        # An input takes a gradient when some slot it reads is an argument or an equation's.
        grad = [bool(((s < tape.n_in) | (s >= tape.n_leaves)).any()) for s in slots]
        tables = tuple(Slots(s) for s in slots)
        if op is None:
            return Kernel(None, rows, tables, None, (1.0,), (grad[0],), signs, grid)
        partials = tuple(r if r is None or type(r) is float else _on_arrays(r, op.arity + 1)
                         for r in op.partials)
        takes = tuple(rule is not None and g for rule, g in zip(op.partials, grad))
        return Kernel(op, rows, tables, _array_forward(op), partials, takes, signs, grid)

    def at(self, s: int) -> int:
        """Where tape slot s lives in this executor's values."""
        return int(self.slot[s]) if s < self.tape.n_slots else self.size + s - self.tape.n_slots

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Every slot's value (rows; a column per point of a batch), and what backward reuses."""
        tape = self.tape
        batch = x.shape[1:]
        ones = (1,) * len(batch)
        v = np.empty((self.size + len(self.numbers),) + batch)
        v[:tape.n_in] = x
        if tape.captured:
            self.leaves[:len(tape.captured)] = [w.data for w in tape.captured]
        v[tape.n_in:tape.n_leaves] = self.leaves.reshape((-1,) + ones)
        v[self.size:] = self.numbers.reshape((-1,) + ones)
        saved: list[Any] = []
        with np.errstate(all="ignore"):  # nan and inf are found and named afterwards
            for step in self.steps:
                m = step.stop - step.start
                if step.rows is None:
                    k = step.kernels[0]
                    ins = [r.read(v) for r in k.reads]
                    v[step.start:step.stop] = k.forward(*ins)  # type: ignore[misc]
                    saved.append([(ins, None)])
                    continue
                T = np.empty((step.rows, m) + batch)
                kept: list[tuple[list[np.ndarray], Any]] = []
                for k in step.kernels:
                    ins = [r.read(v) for r in k.reads]
                    if k.grid is not None:
                        out = grid_forward(k.forward, k.grid, ins)
                        T[k.rows] = out.reshape(T[k.rows].shape)
                    else:
                        out = ins[0] if k.forward is None else k.forward(*ins)
                        T[k.rows] = out
                    if k.signs is not None:
                        T[k.rows] *= _ax(k.signs, 2, batch)
                    kept.append((ins, out))
                v[step.start:step.stop] = _add_rows(T)  # eager's values: products, then adds
                saved.append(kept)
        return v, saved

    def backward(self, v: np.ndarray, saved: list[Any]) -> np.ndarray:
        """d(out)/d(slot) for every slot: each kernel adds partial · grad into its inputs."""
        G = np.zeros_like(v)
        G[self.at(self.tape.out)] = 1.0
        with np.errstate(all="ignore"):
            for step, kept in zip(reversed(self.steps), reversed(saved)):
                if not step.live:
                    continue
                up = G[step.start:step.stop]  # complete: every use of these came before
                batch = up.shape[1:]
                for k, (ins, out) in zip(step.kernels, kept):
                    if k.grid is not None:
                        shares = grid_backward(k.grid, ins, up, batch, k.grad)
                        for table, share in zip(k.reads, shares):
                            if share is not None:
                                table.add(G, share if k.signs is None else
                                          share * _ax(k.signs, 2, batch))
                        continue
                    d = up if k.signs is None else up * _ax(k.signs, 2, batch)
                    if step.rows is None:
                        out = v[step.start:step.stop]
                    for rule, table, takes in zip(k.partials, k.reads, k.grad):
                        if takes:
                            p = rule if type(rule) is float else rule(out, *ins)
                            table.add(G, d if type(p) is float and p == 1.0 else p * d)
        return G


def _ax(a: np.ndarray, ndim: int, batch: tuple[int, ...]) -> np.ndarray:
    """a (with fewer than ndim axes) shaped to broadcast against (ndim axes) + batch."""
    return a.reshape(a.shape + (1,) * (ndim - a.ndim + len(batch)))


def _array_forward(op: Op) -> Callable[..., Any]:
    """The record's forward over arrays (its `array` implementation, else element by element)."""
    return lambda *arrays: rules.run(op, arrays)


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
