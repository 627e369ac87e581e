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

    def groups(self, live: Sequence[Any]) -> dict[GroupKey, list[int]]:
        """The equations (indices) of each group, by level; first seen first within a level."""
        out: dict[tuple[int, bool, Any], list[int]] = {}
        for k, key in enumerate(zip(self.level, map(bool, live), self.recipe)):
            if key[0]:
                group = out.get(key)
                if group is None:
                    out[key] = [k]
                else:
                    group.append(k)
        return {GroupKey(*key): ks for key, ks in sorted(out.items(), key=lambda i: i[0][0])}


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
    c = tape.columns
    reads = [_ints(c.in0), _ints(c.in1)]
    reads += [np.array([p for ins in c.more.values() for p in ins[2:]], dtype=np.int64)]
    flat = np.concatenate(reads)
    count = np.bincount(flat[flat >= 0], minlength=tape.n_slots)[:tape.n_slots]
    for s in (tape.out, *tape.aux, *(g.left for g in tape.guards),
              *(g.right for g in tape.guards)):
        if s < tape.n_slots:
            count[s] += 2
    return count.tolist()  # type: ignore[no-any-return]


def _ints(col: Any) -> np.ndarray:
    return np.frombuffer(col, dtype=np.int32).astype(np.int64) if len(col) else \
        np.zeros(0, dtype=np.int64)


def fuse_sums(tape: Tape) -> Sums:
    """A left-deep chain of + and − whose inner nodes have no other use (what `sum()` builds)
    becomes one sum of terms; a term made by an op used only by that sum is made inside it."""
    c = tape.columns
    base = tape.n_leaves
    code, in0, in1, live, ops_ = c.code, c.in0, c.in1, c.live, c.ops
    m = len(code)
    terms: list[list[Term] | None] = [None] * m
    absorbed: set[int] = set()
    # Per equation, whether its slot is read once, by one equation of the same liveness, and
    # is not a stop: what may be absorbed into its reader. One numpy pass, not a call per read.
    n_reads = np.asarray(uses(tape), dtype=np.int64)[base:]
    live_eq = np.frombuffer(live, dtype=np.uint8) if m else np.zeros(0, dtype=np.uint8)
    single = n_reads == 1
    if tape.stops:
        single[np.array(sorted(tape.stops), dtype=np.int64) - base] = False
    sign = {i: (1.0 if op is ADD else -1.0) for i, op in enumerate(ops_) if op is ADD or op is SUB}
    if sign:
        codes = _ints(code)
        is_sum = np.isin(codes, list(sign))
        if tape.stops:
            is_sum[np.array(sorted(tape.stops), dtype=np.int64) - base] = False
        adds = np.flatnonzero(is_sum)
        first = _ints(in0)[adds] - base
        # the first input is an equation read by this sum alone, of the same liveness
        inner = first >= 0
        inner[inner] = single[first[inner]] & (live_eq[first[inner]] == live_eq[adds[inner]])
        for k, j, absorb, second, c_k in zip(adds.tolist(), first.tolist(), inner.tolist(),
                                              _ints(in1)[adds].tolist(), codes[adds].tolist()):
            own = terms[j] if absorb else None
            if own is not None:
                terms[j] = None
                absorbed.add(j)
            else:
                own = [Term(base + j, 1.0)]
            own.append(Term(second, sign[c_k]))
            terms[k] = own
    made: dict[int, tuple[Op | None, ...]] = {}
    single_l, live_l, code_l = single.tolist(), live_eq.tolist(), _ints(code).tolist()
    for k, own in enumerate(terms):
        if own is None:
            continue
        pattern = []
        lk = live_l[k]
        for t in own:
            j = t.slot - base  # a term made by an equation read by this sum alone
            if j >= 0 and single_l[j] and live_l[j] == lk and terms[j] is None \
                    and j not in absorbed:
                pattern.append(ops_[code_l[j]])
                absorbed.add(j)
            else:
                pattern.append(None)
        made[k] = tuple(pattern)
    return Sums(terms, made, absorbed)


def group_by_level(tape: Tape, sums: Sums) -> Levels:
    """Each equation not absorbed goes one level above the deepest slot it reads (through the
    terms made inside a sum)."""
    c = tape.columns
    base, terms, made = tape.n_leaves, sums.terms, sums.made
    more, ops_ = c.more, c.ops
    m = len(c.code)
    # The columns as plain lists: this walk is a Python step per equation, so it reads ints
    # without conversions (a missing second input, -1, reads the extra last depth: 0).
    code, in0, in1 = _ints(c.code).tolist(), _ints(c.in0).tolist(), _ints(c.in1).tolist()
    depth = [0] * (tape.n_slots + 1)
    recipes: list[Any] = [None] * m
    absorbed = sums.absorbed
    for k in range(m):
        if k in absorbed:
            continue
        own = terms[k]
        if own is not None:
            pattern = made[k]
            d = 0
            for t, mk in zip(own, pattern):
                s = t.slot
                if mk is None:
                    e = depth[s]
                elif more and s - base in more:
                    e = max(depth[p] for p in more[s - base])
                else:
                    e = max(depth[in0[s - base]], depth[in1[s - base]])
                if e > d:
                    d = e
            recipes[k] = pattern
        else:
            recipes[k] = ops_[code[k]]
            if more and k in more:
                d = max(depth[p] for p in more[k])
            else:
                d = max(depth[in0[k]], depth[in1[k]])
        depth[base + k] = 1 + d
    return Levels(depth[base:base + m], recipes)


def plan_blocks(tape: Tape, sums: Sums, levels: Levels) -> Schedule:
    """Each group's blocks: a plain group is one op over one table per input; a sum's terms at
    the same place made by the same op are one block (all of a layer's products together)."""
    c = tape.columns
    base = tape.n_leaves
    in0, in1 = _ints(c.in0), _ints(c.in1)
    cols = [in0, in1]
    groups = []
    for key, ks in levels.groups(c.live).items():
        if ks[0] in sums.made:
            pattern = sums.made[ks[0]]
            blocks = []
            term_slots = np.array([[t.slot for t in sums.terms[k]] for k in ks],  # type: ignore[union-attr]
                                  dtype=np.int64).T
            term_signs = np.array([[t.sign for t in sums.terms[k]] for k in ks]).T  # type: ignore[union-attr]
            for op in dict.fromkeys(pattern):
                where = [i for i, mk in enumerate(pattern) if mk is op]
                rows = slice(where[0], where[-1] + 1) \
                    if where == list(range(where[0], where[-1] + 1)) else np.array(where)
                at = term_slots[where]
                if op is None:
                    reads = [at]
                elif op.arity <= 2 and not c.more:
                    reads = [cols[j][at - base] for j in range(op.arity)]
                else:
                    reads = [np.array([[c.inputs(int(s) - base)[j] for s in row] for row in at])
                             for j in range(op.arity)]
                signs = term_signs[where]
                blocks.append(Block(op, rows, reads, None if (signs == 1.0).all() else signs))
            groups.append(Group(list(ks), key.live, len(pattern), blocks))
        else:
            op = c.ops[c.code[ks[0]]]
            idx = np.array(ks, dtype=np.int64)
            if op.arity <= 2 and not c.more:
                reads = [cols[j][idx] for j in range(op.arity)]
            else:
                reads = [np.array([c.inputs(k)[j] for k in ks]) for j in range(op.arity)]
            groups.append(Group(list(ks), key.live, None, [Block(op, slice(None), reads)]))
    return Schedule(groups)


def narrow(tape: Tape, levels: Levels) -> bool:
    """Under 32 equations per level of the numpy executor (a long chain has one), where numpy's
    cost per call would dominate: the flat float loop replays one point then."""
    return len(tape.eqns) < 32 * levels.depth
