"""A layer is a matrix product: the pass that finds a sum's products over a grid of neurons ×
points, and the kernel that runs such a block (forward by broadcasting, eager's products and
adds bit for bit; backward as two matrix products instead of a scatter-add per product)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .passes import Group, Schedule

# A grid block's inputs as (terms, outer, 1) and (terms, 1, inner), by which input is outer.
_SPREAD = (((slice(None), slice(None), None), (slice(None), None)),
           ((slice(None), None), (slice(None), slice(None), None)))


@dataclass(frozen=True)
class Grid:
    """A block whose equation n multiplies column a[:, i] of its first input's distinct
    columns by b[:, j] of its second's, every pair (i, j) once: `outer` is which input's
    columns make the outer axis of the equations' order, `shape` = (outer, inner) counts."""

    outer: int
    shape: tuple[int, int]


def products_to_matmul(schedule: Schedule, base: int) -> Schedule:
    """Each sum's block of products that runs over a grid (a layer: every neuron's weights
    with every point's inputs), with one sign per term, becomes a grid block reading each
    distinct column once. The group's equations are put in the grid's order, the longer of
    its two axes last (numpy's loops run fastest over a long last axis), and a plain group
    reading a whole earlier group elementwise (a layer's activations) takes that group's
    order, so that it reads it as one run. Orders change no number of the forward. `base`:
    the tape's first equation slot (its leaves' count)."""
    groups: list[Group] = []
    n = base + 1 + max((max(g.eqns) for g in schedule.groups if g.eqns), default=0)
    position = np.zeros(n, dtype=np.intp)  # tape slot → its place in its group's order
    owner = np.full(n, -1, dtype=np.intp)  # tape slot → the group (index) that makes it
    for group in schedule.groups:
        if group.rows is None:
            group = _follow(group, position, owner)
        else:
            group = _gridded(group)
        made = base + np.asarray(group.eqns, dtype=np.intp)
        position[made] = np.arange(len(made))
        owner[made] = len(groups)
        groups.append(group)
    return replace(schedule, groups=groups)


def _reordered(group: Group, order: np.ndarray) -> Group:
    """The group with its equations (and every block's columns) in this order."""
    return replace(group, eqns=[group.eqns[j] for j in order],
                   blocks=[replace(c, reads=[r[..., order] for r in c.reads],
                                   signs=None if c.signs is None else c.signs[..., order])
                           for c in group.blocks])


def _follow(group: Group, position: np.ndarray, owner: np.ndarray) -> Group:
    """A plain group whose first input reads distinct slots of one earlier group, in that
    group's order (an activation after its layer); else as it is."""
    first = group.blocks[0].reads[0] if group.blocks and group.blocks[0].reads else None
    if first is None or first.ndim != 1 or first.size < 2:
        return group
    by = owner[first]
    if by[0] < 0 or (by != by[0]).any():
        return group
    at = position[first]
    step = np.diff(at)
    if (step > 0).all() or len(np.unique(at)) != len(at):
        return group
    return _reordered(group, np.argsort(at, kind="stable"))


def _gridded(group: Group) -> Group:
    """A sum group with its grid blocks found (see products_to_matmul)."""
    blocks = list(group.blocks)
    for i, b in enumerate(blocks):
        if b.op is None or not b.op.product:
            continue
        if b.signs is not None and not (b.signs == b.signs[:, :1]).all():
            continue
        found = _grid(*b.reads)
        if found is None:
            continue
        outer, shape, _, order = found
        if shape[0] > shape[1]:  # the longer axis last: the other input's columns outermost
            ids = _ids(b.reads[1 - outer])
            inner_ids = _ids(b.reads[outer])
            order = np.lexsort((inner_ids, ids))
        if order is not None:  # lay the equations out in that order, then read again
            group = _reordered(group, order)
            blocks = list(group.blocks)
            b = blocks[i]
            found = _grid(*b.reads)
            assert found is not None and found[3] is None
        outer, shape, columns, _ = found
        blocks[i] = replace(b, reads=columns, grid=Grid(outer, shape),
                            signs=None if b.signs is None else b.signs[:, 0])
        group = replace(group, blocks=blocks)
    return group


def _ids(table: np.ndarray) -> np.ndarray:
    """Per column of a table, the index of its distinct column (first seen first)."""
    return _distinct(table)[0]


def _distinct(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a (terms, n) table, the index of its distinct column, numbered in the
    order first seen; and those distinct columns, (terms, count). (Columns sorted by a stable
    lexsort: equal ones are neighbours, the first seen first among them.)"""
    n = table.shape[1]
    order = np.lexsort(table[::-1])
    ranked = table[:, order]
    new = np.ones(n, dtype=bool)
    new[1:] = (ranked[:, 1:] != ranked[:, :-1]).any(axis=0)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    first = order[new]
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse], table[:, np.sort(first)]


def _grid(a: np.ndarray, b: np.ndarray
          ) -> tuple[int, tuple[int, int], list[np.ndarray], np.ndarray | None] | None:
    """When equation n's columns a[:, n], b[:, n] run over every pair of a's distinct columns
    with b's exactly once: which input is outer, the (outer, inner) counts, the distinct
    columns of a and b, (terms, count) each, and the order of the equations that lays them out
    so (None: they are in it already). Else None."""
    (ids_a, columns_a), (ids_b, columns_b) = _distinct(a), _distinct(b)
    ids, columns = [ids_a, ids_b], [columns_a, columns_b]
    na, nb = len(columns[0][0]), len(columns[1][0])
    pairs = ids[0] * nb + ids[1]
    if na * nb != len(pairs) or len(np.unique(pairs)) != len(pairs):
        return None
    a_major = np.array_equal(pairs, np.arange(len(pairs)))
    if np.array_equal(ids[1] * na + ids[0], np.arange(len(pairs))) and not (a_major and nb > na):
        return 1, (nb, na), columns, None  # b-major, as a layer's loop over points builds it
    return 0, (na, nb), columns, None if a_major else np.argsort(pairs)


def grid_forward(forward: Any, grid: Grid, ins: list[np.ndarray]) -> np.ndarray:
    """Every outer column times every inner one, by broadcasting (terms, outer, 1) × (terms, 1,
    inner): eager's products, each made once."""
    return forward(*[x[axes] for x, axes in zip(ins, _SPREAD[grid.outer])])


def grid_backward(grid: Grid, ins: list[np.ndarray], up: np.ndarray, batch: tuple[int, ...],
                  takes: tuple[bool, ...]) -> list[np.ndarray | None]:
    """Σᵢ aᵢₒ·cᵢᵤ: ∂/∂a = c @ upᵀ and ∂/∂c = a @ up (outer a, inner c), per input that takes
    a gradient."""
    d = up.reshape(grid.shape + batch)
    a, c = grid.outer, 1 - grid.outer
    shares: list[np.ndarray | None] = [None, None]
    if takes[a]:
        shares[a] = _mm(ins[c], d.swapaxes(0, 1))
    if takes[c]:
        shares[c] = _mm(ins[a], d)
    return shares


def _mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The matrix product over the first two axes, per point of a trailing batch axis (written
    with `@`, so that it runs on numpy and jax arrays alike)."""
    if x.ndim == 2:
        return x @ y
    return (x.transpose(2, 0, 1) @ y.transpose(2, 0, 1)).transpose(1, 2, 0)
