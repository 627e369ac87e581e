"""Pytrees, as JAX names them: tuples, lists, dicts, namedtuples, None and numpy arrays nested
in each other, with numbers and Values at the leaves. `tree_flatten` lists the leaves and a
`TreeDef` of the shape; `tree_unflatten` puts leaves back into that shape. Iterative: no
recursion, so depth is bounded only by memory; a container that holds itself is refused.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, NamedTuple

import numpy as np

# The kinds of node. A leaf is anything else (a number, a Value, a string, an object).
LEAF, NONE, TUPLE, LIST, DICT, NAMEDTUPLE, ARRAY = range(7)
_KIND = {tuple: TUPLE, list: LIST, dict: DICT, OrderedDict: DICT, type(None): NONE,
         np.ndarray: ARRAY}


class _Node(NamedTuple):
    kind: int
    meta: Any  # dict: (type, keys); namedtuple: its class; array: its shape; else None
    arity: int  # how many children follow (a leaf: 0, and it takes one leaf)


def _kind(x: Any) -> int:
    kind = _KIND.get(type(x))
    if kind is not None:
        return kind
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return NAMEDTUPLE
    return LEAF


def _sorted_keys(d: dict[Any, Any]) -> list[Any]:
    """A plain dict's keys sorted when they can be (as JAX does, so {'w', 'b'} in any insertion
    order is one structure); an OrderedDict keeps its order, as its type promises."""
    if type(d) is OrderedDict:
        return list(d)
    try:
        return sorted(d)
    except TypeError:  # keys of mixed types: insertion order
        return list(d)


def _children(node: Any, kind: int) -> tuple[_Node, list[Any]]:
    if kind == DICT:
        keys = _sorted_keys(node)
        return _Node(DICT, (type(node), tuple(keys)), len(keys)), [node[k] for k in keys]
    if kind == ARRAY:
        return _Node(ARRAY, node.shape, node.size), node.ravel().tolist()
    if kind == NONE:
        return _Node(NONE, None, 0), []
    meta = type(node) if kind == NAMEDTUPLE else None
    return _Node(kind, meta, len(node)), list(node)


class TreeDef:
    """The shape of a pytree without its leaves; equal shapes compare equal."""

    __slots__ = ("nodes", "num_leaves")

    def __init__(self, nodes: tuple[_Node, ...]) -> None:
        self.nodes = nodes  # in preorder: each container, then its children
        self.num_leaves = sum(1 for n in nodes if n.kind == LEAF)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TreeDef) and self.nodes == other.nodes

    def __hash__(self) -> int:
        return hash(self.nodes)

    def __repr__(self) -> str:
        return f"TreeDef({tree_unflatten(self, [_Star()] * self.num_leaves)!r})"


class _Star:
    def __repr__(self) -> str:
        return "*"


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                 ) -> tuple[list[Any], TreeDef]:
    """(leaves left to right, the tree's shape); is_leaf(x) True stops the walk at x."""
    leaves: list[Any] = []
    nodes: list[_Node] = []
    on_path: set[int] = set()  # containers being walked: meeting one again is a cycle
    stack: list[Any] = [tree]
    exit_marker = stack  # a sentinel no tree can hold: the next item is a container to leave
    while stack:
        node = stack.pop()
        if node is exit_marker:
            on_path.discard(stack.pop())
            continue
        kind = _kind(node)
        if kind == LEAF or (is_leaf is not None and is_leaf(node)):
            nodes.append(_Node(LEAF, None, 0))
            leaves.append(node)
            continue
        if id(node) in on_path:
            raise ValueError(f"a pytree cannot contain itself: a {type(node).__name__} holds "
                             f"itself, directly or through its items")
        record, children = _children(node, kind)
        nodes.append(record)
        if kind != ARRAY:  # an array's items are numbers or Values: no cycle goes through it
            on_path.add(id(node))
            stack += (id(node), exit_marker)
        stack.extend(reversed(children))
    return leaves, TreeDef(tuple(nodes))


def tree_unflatten(treedef: TreeDef, leaves: list[Any]) -> Any:
    """The tree of shape treedef holding these leaves (the inverse of tree_flatten)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"{treedef!r} holds {treedef.num_leaves} leaves, got {len(leaves)}")
    # Build bottom-up: walking the preorder backwards, every node's children are already on the
    # stack, first child on top.
    built: list[Any] = []
    for node in reversed(treedef.nodes):
        if node.kind == LEAF:
            built.append(leaves.pop())
            continue
        children = [built.pop() for _ in range(node.arity)]
        built.append(_rebuild(node, children))
    return built[0]


def _rebuild(node: _Node, children: list[Any]) -> Any:
    kind = node.kind
    if kind == TUPLE:
        return tuple(children)
    if kind == LIST:
        return children
    if kind == DICT:
        cls, keys = node.meta
        return cls(zip(keys, children))
    if kind == NAMEDTUPLE:
        return node.meta(*children)
    if kind == NONE:
        return None
    return _array(node.meta, children)


def _array(shape: tuple[int, ...], items: list[Any]) -> np.ndarray:
    """Items back into an array of the shape: floats if they are all numbers; an array of
    shape + s if they are all arrays of one shape s (a Jacobian's rows); else objects."""
    if all(type(x) is float or type(x) is int for x in items):
        return np.array(items, dtype=float).reshape(shape)
    if items and all(isinstance(x, np.ndarray) for x in items):
        inner = items[0].shape
        if all(x.shape == inner for x in items):
            return np.stack(items).reshape(shape + inner)
    out = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        out[i] = x
    return out.reshape(shape)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of tree, left to right (dict items in sorted key order)."""
    return tree_flatten(tree, is_leaf)[0]


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """The tree of fn(leaf, *matching leaves of rest); every tree in rest has tree's shape.

    JAX's idiom for an update: `params = tree_map(lambda p, g: p - lr * g, params, grads)`.
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    columns = [leaves]
    for i, other in enumerate(rest, start=1):
        other_leaves, other_def = tree_flatten(other, is_leaf)
        if other_def != treedef:
            raise ValueError(f"tree_map: tree {i} has the shape {other_def!r}, tree 0 has "
                             f"{treedef!r}")
        columns.append(other_leaves)
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(*columns)])


def leaf_paths(tree: Any) -> list[str]:
    """Where each leaf sits, in the order of tree_flatten: "", "[0]", "['w'][1]", ".bias"."""
    paths: list[str] = []
    stack: list[tuple[Any, str]] = [(tree, "")]
    while stack:
        node, path = stack.pop()
        kind = _kind(node)
        if kind == LEAF:
            paths.append(path)
            continue
        if kind == DICT:
            keys = _sorted_keys(node)
            items = [(node[k], f"{path}[{k!r}]") for k in keys]
        elif kind == ARRAY:
            items = [(x, f"{path}[{', '.join(map(str, idx))}]")
                     for idx, x in zip(np.ndindex(node.shape), node.ravel().tolist())]
        elif kind == NAMEDTUPLE:
            items = [(x, f"{path}.{name}") for name, x in zip(node._fields, node)]
        elif kind == NONE:
            items = []
        else:
            items = [(x, f"{path}[{i}]") for i, x in enumerate(node)]
        stack.extend(reversed(items))
    return paths
