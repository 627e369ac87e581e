"""Loop rolling: a run of equations that is one body repeated — the same ops, each input slot
moving by a fixed stride per iteration (the previous iteration's output, a constant of its
own, a weight read every time) — found on the tape's columns with numpy and replayed as a
loop over a table of per-iteration constants, forward and backward, instead of straight-line
code a statement per equation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tape import Tape

MIN_COUNT = 4  # fewer iterations are cheaper as straight-line code
MAX_BODY = 512  # longer bodies are looked for only where an op recurs at that distance
_CANDIDATES = 8  # recurrence distances tried beyond the short bodies


@dataclass(frozen=True)
class Read:
    """How a body equation's input moves: `kind` is "fixed" (the same slot every iteration,
    written before the loop), "body" (body equation `j` of this iteration, lag 0, or of the
    previous one, lag 1; iteration 0 reads `slot` for lag 1), or "table" (a leaf taking no
    gradient, a different one per iteration: slot + stride·i)."""

    kind: str
    slot: int  # fixed: the slot; body: what iteration 0 reads; table: iteration 0's slot
    j: int = -1  # body: which body equation
    lag: int = 0  # body: 0 this iteration, 1 the previous one
    stride: int = 0  # table: slots per iteration


@dataclass(frozen=True)
class Loop:
    """Equations start .. start + body·count − 1 as `count` iterations of `body` equations;
    reads[j][p]: how input p of body equation j moves."""

    start: int
    body: int
    count: int
    reads: tuple[tuple[Read, ...], ...]

    @property
    def stop(self) -> int:
        """One past the last equation."""
        return self.start + self.body * self.count

    def slot(self, base: int, j: int, i: int) -> int:
        """The slot body equation j writes in iteration i."""
        return base + self.start + i * self.body + j


def _ints(col: Any) -> np.ndarray:
    """An array('i') column as int64 numbers."""
    return np.frombuffer(col, dtype=np.int32).astype(np.int64) if len(col) else \
        np.zeros(0, dtype=np.int64)


def find_loops(tape: Tape, min_count: int = MIN_COUNT) -> list[Loop]:
    """The rolled regions of a tape, in order and disjoint: for each candidate body length
    (short ones, then the distances at which an op most often recurs), the runs where every
    equation repeats the one a body earlier with each input moving by the same stride as
    there; each run checked to be replayable as a loop (see `_loop`)."""
    c = tape.columns
    m = len(c.code)
    if m < 2 * min_count:
        return []
    code = _ints(c.code)
    ins = [_ints(c.in0), _ints(c.in1)]
    live = np.frombuffer(bytes(c.live), dtype=np.uint8).astype(np.int64)
    key = code * 4 + live * 2
    base = tape.n_leaves
    if tape.stops:
        stop = np.zeros(m, dtype=np.int64)
        stop[np.array(sorted(tape.stops)) - base] = 1
        key = key + stop
    if c.more:  # an op of three or more inputs is never rolled: a key of its own
        wide = np.array(sorted(c.more))
        key[wide] = -1 - wide
    last = _last_readers(tape, ins)
    taken = np.zeros(m, dtype=bool)
    loops: list[Loop] = []
    left = m  # equations not in a loop yet
    for B in _periods(key, m):
        if loops and left < 2 * min_count * 8:  # the rest is cheaper as straight-line code
            break
        if m < 2 * B * 2:
            continue
        same = key[B:] == key[:-B]  # same[k - B]: equation k repeats k − B
        ok = same[B:] & same[:-B]
        for col in ins:
            d = col[B:] - col[:-B]
            ok &= d[B:] == d[:-B]
        # ok[k − 2B]: k, k − B and k − 2B repeat with equal strides
        runs = _runs(ok)
        for r0, r1 in runs:
            if r1 - r0 + 2 * B < min_count * B:
                continue
            s, stop_ = r0, r1 + 2 * B  # equations s .. stop_ − 1
            while s < stop_ and taken[s]:
                s += 1
            count = (stop_ - s) // B
            e = s + count * B
            if count < min_count or taken[s:e].any():
                continue
            loop = _loop(tape, ins, last, s, B, count)
            if loop is not None:
                loops.append(loop)
                taken[loop.start:loop.stop] = True
                left -= loop.stop - loop.start
    loops.sort(key=lambda lp: lp.start)
    return loops


def _periods(key: np.ndarray, m: int) -> Iterator[int]:
    """Body lengths to try: 1..16, then the distances at which an op most often recurs."""
    short = list(range(1, min(16, m // 4) + 1))
    yield from short
    order = np.argsort(key, kind="stable")
    k = key[order]
    d = np.diff(order)[k[1:] == k[:-1]]
    d = d[(d > 16) & (d <= MAX_BODY)]
    if not d.size:
        return
    counts = np.bincount(d)
    top = np.argsort(counts)[::-1][:_CANDIDATES]
    yield from sorted(int(b) for b in top if counts[b] >= 4)


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """The [start, stop) runs of True."""
    if not ok.size:
        return []
    edges = np.diff(np.concatenate(([0], ok.view(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _last_readers(tape: Tape, ins: list[np.ndarray]) -> np.ndarray:
    """Per slot, the last equation reading it (m for a slot read after the replay: the
    output, an aux output, a guard's operand; -1 for none)."""
    c = tape.columns
    m = len(c.code)
    last = np.full(tape.n_slots, -1, dtype=np.int64)
    k = np.arange(m)
    for col in ins:
        has = col >= 0
        np.maximum.at(last, col[has], k[has])
    for k2, more in c.more.items():
        for p in more:
            last[p] = max(last[p], k2)
    for s in (tape.out, *tape.aux, *(g.left for g in tape.guards),
              *(g.right for g in tape.guards)):
        if s < tape.n_slots:
            last[s] = m
    return last


def _loop(tape: Tape, ins: list[np.ndarray], last: np.ndarray, s: int, B: int, count: int
          ) -> Loop | None:
    """The region as a Loop, or None where a loop cannot replay it: an input that moves
    otherwise than by the body (lag 0 or 1), as a table of leaves taking no gradient, or not
    at all; or a value of an iteration before the last read after the loop."""
    base, n_in, n_leaves = tape.n_leaves, tape.n_in, tape.n_leaves
    lo, hi = base + s, base + s + B * count  # the region's slots
    # Values of iterations before the last must be read inside the region only.
    inner = last[lo:hi - B]
    if inner.size and inner.max() >= s + B * count:
        return None
    reads = []
    for j in range(B):
        k = s + j
        row = []
        for col in ins:
            f = int(col[k])
            if f < 0:
                break
            d = int(col[k + B]) - f
            if d == 0:
                if lo <= f < hi:
                    return None  # every iteration reads iteration 0's value
                row.append(Read("fixed", f))
            elif f < n_leaves and f + d * (count - 1) < n_leaves and f >= n_in and \
                    f + d * (count - 1) >= n_in:
                row.append(Read("table", f, stride=d))
            elif d == B and lo <= f < hi and f - lo < j:
                row.append(Read("body", f, j=f - lo, lag=0))
            elif d == B and lo <= f + B < lo + B:
                row.append(Read("body", f, j=f + B - lo, lag=1))
            else:
                return None
        reads.append(tuple(row))
    return Loop(s, B, count, tuple(reads))


def deepens(loop: Loop, through: list[bool]) -> bool:
    """Whether each iteration adds a level: some value carried to the next iteration goes
    through an op that `through` (per body equation) says does not merge into a sum (fuse_sums
    makes `s = s + t` over every iteration one sum, of depth one)."""
    B = loop.body
    for j, row in enumerate(loop.reads):
        for r in row:
            if r.kind != "body" or r.lag != 1:
                continue
            # the equations on a path from the reader j to the carried source r.j
            reach = [False] * B
            reach[j] = True
            for k in range(j + 1, B):
                reach[k] = any(q.kind == "body" and q.lag == 0 and reach[q.j]
                               for q in loop.reads[k])
            back = [False] * B
            back[r.j] = True
            for k in range(r.j, -1, -1):
                if back[k]:
                    for q in loop.reads[k]:
                        if q.kind == "body" and q.lag == 0:
                            back[q.j] = True
            if any(reach[k] and back[k] and not through[k] for k in range(B)):
                return True
    return False
