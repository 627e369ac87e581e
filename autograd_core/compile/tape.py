"""The tape: what one trace of f recorded, as equations over numbered slots (the IR every
pass and executor reads), its guards, and its listing in the slides' notation."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from ..ops import Op

COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne,
    "==": operator.eq}


class Eqn(NamedTuple):
    """slot `out` = op(slots `inputs`); `live`: the gradient of the output flows through it.
    A named tuple: a tape of a million equations is built in one pass and kept small."""

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
class Tape:
    """Slots 0..n_in-1 are the arguments, then `captured` (leaf Values f closed over, read at
    each replay, taking no gradient), then the constants, then one slot per equation in order,
    then the guards' numbers. `out` is the result's slot, `aux` the aux outputs' slots."""

    n_in: int
    captured: list[Any]  # the Values themselves: their data is read at replay
    constants: list[float]
    eqns: list[Eqn]
    out: int
    aux: list[int]
    guards: list[Guard]
    numbers: list[float]
    names: list[str]
    stops: frozenset[int] = field(default_factory=frozenset)  # eqns whose gradient is cut

    @cached_property
    def n_leaves(self) -> int:
        """Arguments, captured Values and constants: the slots no equation writes."""
        return self.n_in + len(self.captured) + len(self.constants)

    @cached_property
    def n_slots(self) -> int:
        """Every slot an equation or leaf fills (the guards' numbers come after)."""
        return self.n_leaves + len(self.eqns)

    def takes_gradient(self, slot: int) -> bool:
        """An argument or an equation's output: the slots a gradient is added into."""
        return slot < self.n_in or slot >= self.n_leaves

    def leaf_values(self) -> list[float]:
        """The captured Values' current data, then the constants: the leaves after the args."""
        return [v.data for v in self.captured] + self.constants

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

    def listing(self) -> str:
        """The forward and backward passes as straight-line code in the slides' notation."""
        names = self.names
        lines = ["forward"]
        for e in self.eqns:
            written = e.op.written(*(names[p] for p in e.inputs))
            stop = "  (no gradient)" if not e.live and e.out in self.stops else ""
            lines.append(f"  {names[e.out]} = {written}{stop}")
        root = names[self.out]
        lines.append("backward")
        assigned: set[int] = set()
        for e in reversed(self.eqns):
            if not e.live:
                continue
            upstream = "" if e.out == self.out else f"d{root}/d{names[e.out]}"
            values = dict(zip(e.op.inputs, (names[p] for p in e.inputs)), out=names[e.out])
            for i, (p, rule) in enumerate(zip(e.inputs, e.op.partials)):
                if rule is None or not self.takes_gradient(p):
                    continue  # a constant takes no gradient
                term = _term(_written_partial(e.op, i, rule, values), upstream)
                lines.append(f"  d{root}/d{names[p]} {'+=' if p in assigned else '='} {term}")
                assigned.add(p)
        if self.guards:
            lines.append("guards")
            lines += [f"  {g.text} is {g.outcome}  ({g.where})" for g in self.guards]
        return "\n".join(lines)


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
