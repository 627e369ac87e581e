"""The chain rule on floats, specialised for speed: what `backward()` and `grads_of` run.

The same steps as `engine.chain_rule` (the reference a student reads), in the same order, with
each running sum in its node's `_acc` slot instead of a dict, nothing yielded, and one- and
two-input nodes spelled out. tests/test_chain_rule.py proves the two equal on random DAGs.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from .engine import (
    Value,
    commit_grads,
    commit_lock,
    cotangents,
    dict_grads,
    hooked,
    local_partials,
    raise_first_problem,
    requires,
    sum_overflow,
)

_finite = math.isfinite


def walk_floats(order: list[Value], seed: float, needed: set[Value] | None = None,
                keep: set[Value] | None = None) -> dict[Value, float]:
    """`chain_rule` on floats, specialised for speed: the same steps in the same order, each
    running sum in its node's `_acc` slot (0.0 between passes); nothing yielded; one- and
    two-input nodes spelled out. The caller holds `walk_lock` and `commit_lock`.

    With keep=None each node's sum is added to its grad as the walk passes it (a pass that then
    fails takes every addition back); with a set, the sums of its nodes are returned and no
    grad changes. Proven equal to the general walk by tests/test_chain_rule.py on random DAGs.
    Raises, naming the op and its values, where a rule fails or a grad is not finite.
    """
    kept: dict[Value, float] = {}
    carried: dict[Value, Any] = {}  # each grad that was not 0 before the pass, to take back
    total = 0.0  # the sum of every grad: finite only if each of them is (inf − inf is nan)
    overflow = None  # a grad plus this pass's sum that is not finite
    order[-1]._acc = seed
    node, written = order[-1], None  # the node being passed, and the last whose grad it set
    try:
        for node in reversed(order):
            # A node that requires no grad (a Constant, an op on them) or leads to no wanted
            # one is passed by: no gradient reaches it, none of its rules runs.
            g = node._acc
            node._acc = 0.0
            rare = node._rare
            if not (node in needed if needed is not None else rare is None or rare.requires):
                continue
            if rare is not None and rare.hooks:
                g = hooked(node, g, False)
            total += g
            if keep is None:
                old = node._grad
                if old == 0.0:
                    node._grad = g
                else:  # a second backward adds to the first
                    carried[node] = old
                    node._grad = old + g
                    if type(node._grad) is float and not _finite(node._grad) and _finite(g):
                        node._grad = old
                        overflow = sum_overflow(node, old, g)
                        raise overflow
                written = node
            elif node in keep:
                kept[node] = g
            op = node._op
            if op is None:
                continue
            if op.vjp is not None:  # a custom rule: it adds its cotangents itself
                for parent, c in zip(node.parents, cotangents(node, g, needed=needed)):
                    if c is not None:
                        parent._acc += c
                continue
            x: Any = node._x  # a Value: an op node has one input at least
            y: Any = node._y
            out = node._data
            # A partial that is a number, or a product's (its inputs swapped, ∂(x·y)/∂x = y, as
            # its rules say: op.product is read off them), is added without asking whether the
            # parent takes a grad: a parent that takes none empties its sum when passed. A rule
            # that is a function runs only for a parent that takes a grad.
            if y is not None and (rare is None or not rare.rest):
                rx, ry = op.partials
                if rx is not None:
                    if type(rx) is float:
                        x._acc += rx * g
                    elif op.product:
                        x._acc += y._data * g
                    elif (x in needed if needed is not None
                          else x._rare is None or x._rare.requires):
                        x._acc += rx(out, x._data, y._data) * g
                if ry is not None:
                    if type(ry) is float:
                        y._acc += ry * g
                    elif op.product:
                        y._acc += x._data * g
                    elif (y in needed if needed is not None
                          else y._rare is None or y._rare.requires):
                        y._acc += ry(out, x._data, y._data) * g
            elif y is None:
                rx = op.partials[0]
                if rx is not None:
                    if type(rx) is float:
                        x._acc += rx * g
                    elif (x in needed if needed is not None
                          else x._rare is None or x._rare.requires):
                        x._acc += rx(out, x._data) * g
            else:
                for parent, d in zip(node.parents, local_partials(node, needed=needed)):
                    if d is not None:
                        parent._acc += d * g
        order[-1]._acc = 0.0  # the seed, if no wanted grad depends on the root
        if not _finite(total):
            raise ArithmeticError
    except BaseException as err:
        # Take back what this pass added: the walk wrote the grads of the nodes after `node`
        # in topological order, and `node`'s own if it got that far; and empty every sum.
        if keep is None:
            for n in order[order.index(node) + (written is not node):]:
                if n in needed if needed is not None else requires(n):
                    n._grad = carried.get(n, 0.0)
        for n in order:
            n._acc = 0.0
        if err is not overflow and isinstance(err, (ArithmeticError, ValueError, TypeError)):
            # A slow second walk names the step: the general walk checks each partial and sum.
            raise_first_problem(order[-1], seed, needed)
        raise
    return kept


# The float walk keeps its running sums in the nodes, so one pass at a time may run it. A pass
# that finds it taken (another thread's, or a backward that a hook starts inside a pass) runs
# the general walk instead, whose sums are its own: slower, and never blocked or mixed up.
walk_lock = threading.Lock()


def float_grads(order: list[Value], seed: float, needed: set[Value] | None = None,
                wanted: set[Value] | None = None, commit: bool = False) -> dict[Value, float]:
    """The float grads of the walk from order[-1] (of the wanted nodes only, if given): added to
    the nodes' grads with commit=True, else returned."""
    if not walk_lock.acquire(blocking=False):
        grads = dict_grads(order[-1], seed, needed)
    else:
        try:
            with commit_lock:
                grads = walk_floats(order, seed, needed,
                                     keep=None if commit and wanted is None else wanted)
        finally:
            walk_lock.release()
        if commit and wanted is None:
            return {}  # added as the walk went
    if wanted is not None:
        grads = {n: g for n, g in grads.items() if n in wanted}
    if commit:
        commit_grads(grads)
    return grads
