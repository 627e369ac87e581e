"""Passes over a tape, each a named function returning a dataclass: fuse sums (a chain of + and
− becomes one n-ary sum, its single-use terms made inside it), group by level (equations at
one depth with one recipe run as one numpy call), and plan the blocks each group runs.
The layer-as-matrix-product pass lives in `matmul`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..ops import ADD, SUB, Op
from .tape import Tape


class Term(NamedTuple):
    """A term of a sum: the slot it is read from (or made from), added with `sign` (±1)."""

    slot: int
    sign: float


@dataclass
class Sums:
    """fuse_sums: per equation, its terms as one sum (None: not a sum, or absorbed into its
    user); per sum, the op that makes each term inside it (None: read from its slot)."""

    terms: list[list[Term] | None]
    made: dict[int, tuple[Op | None, ...]]
    absorbed: set[int]


class GroupKey(NamedTuple):
    """Equations that run as one group: same depth, same liveness, same recipe (an op, or a
    sum's pattern of ops making its terms)."""

    depth: int
    live: bool
    recipe: Any


@dataclass
class Levels:
    """group_by_level: each equation's level (0: absorbed into a sum), one above the deepest
    slot it reads; equations of one level, liveness and recipe run as one group."""

    level: list[int]
    recipe: list[Any]  # an op, or a sum's pattern of ops making its terms

    @property
    def depth(self) -> int:
        """How many levels the numpy executor runs one after the other."""
        return max(self.level, default=1) or 1

    def groups(self, live: Sequence[bool]) -> dict[GroupKey, list[int]]:
        """The equations (indices) of each group, by level; first seen first within a level."""
        out: dict[GroupKey, list[int]] = {}
        for k, (d, recipe) in enumerate(zip(self.level, self.recipe)):
            if d:
                out.setdefault(GroupKey(d, live[k], recipe), []).append(k)
        return dict(sorted(out.items(), key=lambda item: item[0].depth))


@dataclass
class Block:
    """Rows of a group made by one op (None: read as they are) from tables of slots, one per
    input ((terms, equations) for a sum; (equations,) for a plain group), signs ±1 per term
    when some term is subtracted. `grid`: set by products_to_matmul (see `matmul.Grid`)."""

    op: Op | None
    rows: Any  # which of the sum's rows it fills (a slice or indices); a plain group: all
    reads: list[np.ndarray]
    signs: np.ndarray | None = None
    grid: Any = None


@dataclass
class Group:
    """One step of the numpy executor: equations `eqns` (indices, in their slot order), `rows`
    terms each for a sum (None: a plain group, one op), the blocks that fill it."""

    eqns: list[int]
    live: bool
    rows: int | None
    blocks: list[Block]


@dataclass
class Schedule:
    """The groups in the order they run (each after everything it reads)."""

    groups: list[Group]


def uses(tape: Tape) -> list[int]:
    """How many times each slot is read: by equations, and twice more when read after the
    replay (the output, aux outputs and guards' operands), so that no such node is absorbed."""
    count = [0] * tape.n_slots
    for e in tape.eqns:
        for p in e.inputs:
            count[p] += 1
    for s in (tape.out, *tape.aux, *(g.left for g in tape.guards),
              *(g.right for g in tape.guards)):
        if s < tape.n_slots:
            count[s] += 2
    return count


def fuse_sums(tape: Tape) -> Sums:
    """A left-deep chain of + and − whose inner nodes have no other use (what `sum()` builds)
    becomes one sum of terms; a term made by an op used only by that sum is made inside it."""
    base, eqns, count = tape.n_leaves, tape.eqns, uses(tape)
    terms: list[list[Term] | None] = [None] * len(eqns)
    absorbed: set[int] = set()

    def only_use(s: int, k: int) -> bool:  # slot s is an equation's, read by equation k alone
        return s >= base and count[s] == 1 and eqns[s - base].live == eqns[k].live \
            and s not in tape.stops

    for k, e in enumerate(eqns):
        if (e.op is ADD or e.op is SUB) and e.out not in tape.stops:
            first, second = e.inputs
            own = terms[first - base] if only_use(first, k) else None
            if own is not None:
                terms[first - base] = None
                absorbed.add(first - base)
            else:
                own = [Term(first, 1.0)]
            terms[k] = [*own, Term(second, 1.0 if e.op is ADD else -1.0)]
    made: dict[int, tuple[Op | None, ...]] = {}
    for k, own in enumerate(terms):
        if own is not None:
            made[k] = tuple(eqns[t.slot - base].op if only_use(t.slot, k)
                            and terms[t.slot - base] is None and t.slot - base not in absorbed
                            else None for t in own)
            absorbed.update(t.slot - base for t, m in zip(own, made[k]) if m is not None)
    return Sums(terms, made, absorbed)


def group_by_level(tape: Tape, sums: Sums) -> Levels:
    """Each equation not absorbed goes one level above the deepest slot it reads (through the
    terms made inside a sum)."""
    base, eqns, terms, made = tape.n_leaves, tape.eqns, sums.terms, sums.made
    depth = [0] * tape.n_slots
    recipes: list[Any] = [None] * len(eqns)
    for k, e in enumerate(eqns):
        if k in sums.absorbed:
            continue
        own = terms[k]
        if own is not None:
            pattern = made[k]
            ins: Sequence[int] = [r for t, m in zip(own, pattern)
                   for r in (eqns[t.slot - base].inputs if m is not None else (t.slot,))]
            recipes[k] = pattern
        else:
            ins, recipes[k] = e.inputs, e.op
        depth[base + k] = 1 + max([depth[p] for p in ins], default=0)
    return Levels(depth[base:], recipes)


def plan_blocks(tape: Tape, sums: Sums, levels: Levels) -> Schedule:
    """Each group's blocks: a plain group is one op over one table per input; a sum's terms at
    the same place made by the same op are one block (all of a layer's products together)."""
    base, eqns = tape.n_leaves, tape.eqns
    groups = []
    for key, ks in levels.groups([e.live for e in eqns]).items():
        if ks[0] in sums.made:
            pattern = sums.made[ks[0]]
            blocks = []
            for op in dict.fromkeys(pattern):
                where = [i for i, m in enumerate(pattern) if m is op]
                rows = slice(where[0], where[-1] + 1) \
                    if where == list(range(where[0], where[-1] + 1)) else np.array(where)
                at = [[sums.terms[k][i].slot for k in ks] for i in where]  # type: ignore[index]
                reads = [np.array(at)] if op is None else [
                    np.array([[eqns[s - base].inputs[j] for s in row] for row in at])
                    for j in range(op.arity)]
                signs = np.array([[sums.terms[k][i].sign for k in ks]  # type: ignore[index]
                                  for i in where])
                blocks.append(Block(op, rows, reads, None if (signs == 1.0).all() else signs))
            groups.append(Group(list(ks), key.live, len(pattern), blocks))
        else:
            op = eqns[ks[0]].op
            reads = [np.array([eqns[k].inputs[i] for k in ks]) for i in range(op.arity)]
            groups.append(Group(list(ks), key.live, None, [Block(op, slice(None), reads)]))
    return Schedule(groups)


def narrow(tape: Tape, levels: Levels) -> bool:
    """Under 32 equations per level of the numpy executor (a long chain has one), where numpy's
    cost per call would dominate: the flat float loop replays one point then."""
    return len(tape.eqns) < 32 * levels.depth
