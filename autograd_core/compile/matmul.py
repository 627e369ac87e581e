"""A layer is a matrix product: the pass that finds a sum's products over a grid of neurons ×
points, and the kernel that runs such a block (forward by broadcasting, eager's products and
adds bit for bit; backward as two matrix products instead of a scatter-add per product)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .passes import Schedule

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


def products_to_matmul(schedule: Schedule) -> Schedule:
    """Each sum's block of products that runs over a grid (a layer: every neuron's weights
    with every point's inputs), with one sign per term, becomes a grid block reading each
    distinct column once; the group's equations are put in the grid's order."""
    groups = []
    for group in schedule.groups:
        if group.rows is None:
            groups.append(group)
            continue
        blocks = list(group.blocks)
        for i, b in enumerate(blocks):
            if b.op is None or not b.op.product:
                continue
            if b.signs is not None and not (b.signs == b.signs[:, :1]).all():
                continue
            found = _grid(*b.reads)
            if found is None:
                continue
            order = found[3]
            if order is not None:  # lay the equations out in the grid's order, then read again
                group = replace(group, eqns=[group.eqns[j] for j in order])
                blocks = [replace(c, reads=[r[:, order] for r in c.reads],
                                  signs=None if c.signs is None else c.signs[:, order])
                          for c in blocks]
                b = blocks[i]
                found = _grid(*b.reads)
                assert found is not None and found[3] is None
            outer, shape, columns, _ = found
            blocks[i] = replace(b, reads=columns, grid=Grid(outer, shape),
                                signs=None if b.signs is None else b.signs[:, 0])
        groups.append(replace(group, blocks=blocks))
    return Schedule(groups)


def _grid(a: np.ndarray, b: np.ndarray
          ) -> tuple[int, tuple[int, int], list[np.ndarray], np.ndarray | None] | None:
    """When equation n's columns a[:, n], b[:, n] run over every pair of a's distinct columns
    with b's exactly once: which input is outer, the (outer, inner) counts, the distinct
    columns of a and b, (terms, count) each, and the order of the equations that lays them out
    so (None: they are in it already). Else None."""
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
        return 1, (nb, na), columns, None  # b-major, as a layer's loop over points builds it
    return 0, (na, nb), columns, None if np.array_equal(pairs, np.arange(len(pairs))) else \
        np.argsort(pairs)


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
