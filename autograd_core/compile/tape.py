"""The tape: what one trace of f recorded, as equations over numbered slots (the IR every
pass and executor reads), its guards, and its listing in the slides' notation."""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, overload

import numpy as np

from ..ops import Op

COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne,
    "==": operator.eq}


class Eqn(NamedTuple):
    """slot `out` = op(slots `inputs`); `live`: the gradient of the output flows through it.
    A view: the tape keeps its equations as columns of ints, and makes one on demand."""

    op: Op
    inputs: tuple[int, ...]
    out: int
    live: bool = True


@dataclass(frozen=True)
class Guard:
    """`left op right` came out `outcome` while tracing, at `where` (file:line: source)."""

    left: int  # slot of the left operand
    op: str  # "<", "<=", ">", ">=", "!=" (truth: v != 0), "==" (a number read out of a Value)
    right: int  # slot of the right operand (a number becomes a slot after the equations')
    outcome: bool
    text: str  # as written with the tape's names: "x > 0.0"
    where: str


@dataclass
class Columns:
    """The equations as compact columns (a million of them are a few arrays, not a million
    objects): equation k is ops[code[k]] applied to slots in0[k], in1[k] (-1: one input; the
    inputs of an op of three or more are in `more`), writing slot n_leaves + k."""

    ops: list[Op]  # each record once
    code: array  # 'i': index into ops, per equation
    in0: array  # 'i'
    in1: array  # 'i': -1 for a one-input op
    live: bytearray  # 1: the output's gradient flows through the equation
    more: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def inputs(self, k: int) -> tuple[int, ...]:
        """Equation k's input slots, in order."""
        more = self.more.get(k) if self.more else None
        if more is not None:
            return more
        b = self.in1[k]
        return (self.in0[k],) if b < 0 else (self.in0[k], b)


class Eqns(Sequence[Eqn]):
    """The tape's equations read one at a time as Eqn (made on demand from the columns)."""

    def __init__(self, columns: Columns, base: int) -> None:
        self.c = columns
        self.base = base

    def __len__(self) -> int:
        return len(self.c.code)

    @overload
    def __getitem__(self, k: int) -> Eqn: ...
    @overload
    def __getitem__(self, k: slice) -> list[Eqn]: ...

    def __getitem__(self, k: int | slice) -> Eqn | list[Eqn]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(f"equation {k} of {n}")
        c = self.c
        return Eqn(c.ops[c.code[k]], c.inputs(k), self.base + k, bool(c.live[k]))

    def __iter__(self) -> Iterator[Eqn]:
        c, base = self.c, self.base
        ops, inputs = c.ops, c.inputs
        for k, (code, live) in enumerate(zip(c.code, c.live)):
            yield Eqn(ops[code], inputs(k), base + k, bool(live))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Eqns({list(self)!r})"


@dataclass
class Tape:
    """Slots 0..n_in-1 are the arguments, then `captured` (leaf Values f closed over, read at
    each replay, taking no gradient), then the constants, then one slot per equation in order,
    then the guards' numbers. `out` is the result's slot, `aux` the aux outputs' slots."""

    n_in: int
    captured: list[Any]  # the Values themselves: their data is read at replay
    constants: array  # 'd'
    columns: Columns
    out: int
    aux: list[int]
    guards: list[Guard]
    numbers: list[float]
    labels: dict[int, str]  # the slots named by f (arguments, labels); the rest get t1, t2, …
    stops: frozenset[int] = field(default_factory=frozenset)  # eqns whose gradient is cut

    @property
    def eqns(self) -> Eqns:
        """The equations, one Eqn each (made on demand: the tape keeps columns)."""
        return Eqns(self.columns, self.n_leaves)

    @property
    def n_eqns(self) -> int:
        """How many equations."""
        return len(self.columns.code)

    @cached_property
    def names(self) -> list[str]:
        """A name per slot: the argument's name, a leaf's label or number, a node's label or
        t1, t2, … (made when first asked for: a listing, a guard's text)."""
        labels = self.labels
        names = [labels.get(s, f"x{s}") for s in range(self.n_in)]
        names += [labels.get(s) or repr(v.data) for s, v in
                  enumerate(self.captured, self.n_in)]
        first = self.n_in + len(self.captured)
        names += [labels.get(s) or repr(c) for s, c in enumerate(self.constants, first)]
        used = set(names)
        count = 0
        for s in range(self.n_leaves, self.n_slots):
            name = labels.get(s)
            if not name or name in used:
                count += 1
                name = f"t{count}"
                while name in used:
                    count += 1
                    name = f"t{count}"
            used.add(name)
            names.append(name)
        return names

    @cached_property
    def n_leaves(self) -> int:
        """Arguments, captured Values and constants: the slots no equation writes."""
        return self.n_in + len(self.captured) + len(self.constants)

    @cached_property
    def n_slots(self) -> int:
        """Every slot an equation or leaf fills (the guards' numbers come after)."""
        return self.n_leaves + len(self.columns.code)

    def takes_gradient(self, slot: int) -> bool:
        """An argument or an equation's output: the slots a gradient is added into."""
        return slot < self.n_in or slot >= self.n_leaves

    def leaf_values(self) -> list[float]:
        """The captured Values' current data, then the constants: the leaves after the args."""
        return [v.data for v in self.captured] + self.constants.tolist()

    def check_guards(self, value: Callable[[int], Any]) -> Any:
        """Whether every guard holds (per point for a batch), reading slots through `value`."""
        ok: Any = True
        for g in self.guards:
            ok = ok & (COMPARE[g.op](value(g.left), value(g.right)) == g.outcome)
        return ok

    def first_flip(self, value: Callable[[int], Any]) -> Guard:
        """The first guard that does not hold."""
        return next(g for g in self.guards
                    if not np.all(COMPARE[g.op](value(g.left), value(g.right)) == g.outcome))

    def listing(self, loops: Sequence[Any] = ()) -> str:
        """The forward and backward passes as straight-line code in the slides' notation; a
        rolled region (compile.roll) as a loop over i, its per-iteration numbers as tables."""
        names, base = self.names, self.n_leaves
        eqns = self.eqns
        at = {lp.start: lp for lp in loops}
        segments: list[Any] = []
        k = 0
        while k < len(eqns):
            lp = at.get(k)
            segments.append(lp if lp is not None else k)
            k = lp.stop if lp is not None else k + 1
        tables: dict[tuple[int, int, int], str] = {}
        lines = ["forward"]
        for n, seg in enumerate(segments):
            if isinstance(seg, int):
                e = eqns[seg]
                written = e.op.written(*(names[p] for p in e.inputs))
                stop = "  (no gradient)" if not e.live and e.out in self.stops else ""
                lines.append(f"  {names[e.out]} = {written}{stop}")
                continue
            lasts = ", ".join(names[seg.slot(base, j, seg.count - 1)] for j in range(seg.body))
            entries = {f"{self.names[seg.slot(base, r.j, 0)]}[i−1] is {names[r.slot]}"
                       for row in seg.reads for r in row if r.kind == "body" and r.lag == 1}
            entry = f"; at i = 0, {', '.join(sorted(entries))}" if entries else ""
            lines.append(f"  for i in 0 … {seg.count - 1}:  ({seg.count} iterations of "
                         f"{seg.body} equation{'s' * (seg.body != 1)}, rolled{entry}; the last "
                         f"writes {lasts})")
            for j, row in enumerate(seg.reads):
                for p, r in enumerate(row):
                    if r.kind == "table":
                        name = tables[n, j, p] = f"k{len(tables) + 1}"
                        first = [names[r.slot + r.stride * i] for i in range(min(3, seg.count))]
                        lines.append(f"    # {name}[i] = {', '.join(first)}"
                                     f"{', …' if seg.count > 3 else ''}")
            for j, row in enumerate(seg.reads):
                e = eqns[seg.start + j]
                written = e.op.written(*(self._read(seg, n, j, p, r, tables)
                                         for p, r in enumerate(row)))
                stop = "  (no gradient)" if not e.live and e.out in self.stops else ""
                lines.append(f"    {self._body(seg, j)} = {written}{stop}")
        root = names[self.out]
        lines.append("backward")
        assigned: set[int] = set()
        for n, seg in reversed(list(enumerate(segments))):
            if isinstance(seg, int):
                e = eqns[seg]
                if not e.live:
                    continue
                upstream = "" if e.out == self.out else f"d{root}/d{names[e.out]}"
                values = dict(zip(e.op.inputs, (names[p] for p in e.inputs)), out=names[e.out])
                for i, (p, rule) in enumerate(zip(e.inputs, e.op.partials)):
                    if rule is None or not self.takes_gradient(p):
                        continue  # a constant takes no gradient
                    term = _term(_written_partial(e.op, i, rule, values), upstream)
                    lines.append(f"  d{root}/d{names[p]} {'+=' if p in assigned else '='} "
                                 f"{term}")
                    assigned.add(p)
                continue
            lines.append(f"  for i in {seg.count - 1} … 0:")
            for j in reversed(range(seg.body)):
                e = eqns[seg.start + j]
                if not e.live:
                    continue
                row = seg.reads[j]
                reads = [self._read(seg, n, j, p, r, tables) for p, r in enumerate(row)]
                values = dict(zip(e.op.inputs, reads), out=self._body(seg, j))
                for i, (r, rule) in enumerate(zip(row, e.op.partials)):
                    if rule is None or r.kind == "table" or (
                            r.kind == "fixed" and not self.takes_gradient(r.slot)):
                        continue
                    term = _term(_written_partial(e.op, i, rule, values),
                                 f"d{root}/d{self._body(seg, j)}")
                    lines.append(f"    d{root}/d{reads[i]} += {term}")
                    if r.kind != "table":
                        assigned.add(r.slot)
        if self.guards:
            lines.append("guards")
            lines += [f"  {g.text} is {g.outcome}  ({g.where})" for g in self.guards]
        return "\n".join(lines)

    def _body(self, loop: Any, j: int) -> str:
        """Body equation j's value in iteration i, named after its first iteration's slot."""
        return f"{self.names[loop.slot(self.n_leaves, j, 0)]}[i]"

    def _read(self, loop: Any, n: int, j: int, p: int, r: Any,
              tables: dict[tuple[int, int, int], str]) -> str:
        """How input p of body equation j reads in iteration i."""
        if r.kind == "fixed":
            return self.names[r.slot]
        if r.kind == "table":
            return f"{tables[n, j, p]}[i]"
        name = self.names[loop.slot(self.n_leaves, r.j, 0)]
        return f"{name}[i]" if r.lag == 0 else f"{name}[i−1]"


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
