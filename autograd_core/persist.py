"""Pickling and deep copies of Values: flat lists in topological order, so a graph of any
depth works (no recursion), and a model's parameters stay shared with the graphs built on them.
"""

from __future__ import annotations

import copy
from typing import Any

from .engine import Value, change, link, topological_order
from .ops import Op

# One pickled op node: its record, its parents' places in the list, data, grad and label.
Spec = tuple[Op, tuple[int, ...], float, float, str]


def reduce(value: Value) -> tuple[Any, ...]:
    """What pickle stores: a leaf as itself; an op node as its leaves plus its graph, flat.

    Hooks are not pickled (they are functions of the session that registered them).
    """
    if value._op is None:
        return leaf, (type(value), value._data, _plain_grad(value), value.label,
                      value.requires_grad)
    order = topological_order(value)
    leaves = [n for n in order if n._op is None]
    index = {n: i for i, n in enumerate(leaves)}
    spec: list[Spec] = []
    for node in order:
        if node._op is not None:
            index[node] = len(leaves) + len(spec)
            spec.append((node._op, tuple(index[p] for p in node.parents), node._data,
                         _plain_grad(node), node.label))
    return graph, (leaves, spec)


def deepcopy(value: Value, memo: dict[int, Any]) -> Value:
    """A copy of the graph below value, parents first, each node copied once."""
    made = []
    for node in topological_order(value):  # parents first: each copy finds its parents'
        if id(node) not in memo:
            new = leaf(type(node), node._data, 0.0, node.label, node.requires_grad)
            if node._op is not None:
                link(new, node._op, tuple(memo[id(p)] for p in node.parents))
            memo[id(node)] = new
            made.append((node, new))
    # Grads last: a grad from create_graph=True is a graph that may hold these very nodes.
    for node, new in made:
        new._grad = copy.deepcopy(node._grad, memo)
    return memo[id(value)]  # type: ignore[no-any-return]


def _plain_grad(node: Value) -> float:
    if isinstance(node._grad, Value):
        raise TypeError(f"{node!r} holds a grad that is a graph (from create_graph=True), which "
                        f"does not pickle: call zero_grad() first, or pickle its number")
    return node._grad  # type: ignore[no-any-return]


def leaf(cls: type[Value], data: float, grad: Any, label: str, requires: bool = True) -> Value:
    """A leaf (or Constant) with these fields: what pickle and deepcopy rebuild."""
    node = cls(data, label)
    node._grad = grad
    change(node, requires=requires)
    return node


def graph(leaves: list[Value], spec: list[Spec]) -> Value:
    """The last node of a graph pickled by `reduce`, rebuilt in order."""
    nodes = list(leaves)
    for op, parents, data, grad, label in spec:
        node = leaf(Value, data, grad, label)
        link(node, op, tuple(nodes[i] for i in parents))
        nodes.append(node)
    return nodes[-1]
