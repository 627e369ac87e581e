"""The backward pass one step at a time: what `backward()` does, as records you can look at.

The steps are the engine's one chain-rule walk (`chain_rule`), so they agree with backward
exactly. Nothing here changes a grad: the running sums live in a dict of the caller's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .engine import Value, chain_rule, local_partials

__all__ = ["Step", "backward_steps", "local_partials"]


@dataclass(frozen=True)
class Step:
    """One step of backward: each parent grad += partial · grad (step 0: d root/d root = 1)."""

    index: int
    node: Value
    grad: Any  # d(root)/d(node), complete by now: every node that uses `node` ran before it
    parents: tuple[Value, ...]  # node.parents; () for the seed
    partials: tuple[Any, ...]  # ∂node/∂parent in parent order (None: the parent takes no grad,
    # or all None for a custom rule, node.op.vjp, which has no partials)
    contributions: tuple[Any, ...]  # partial · grad (a custom rule's cotangents): what this
    # step adds to each parent's grad

    @property
    def seed(self) -> bool:
        """True for step 0, which only sets d(root)/d(root) = 1."""
        return self.index == 0


def backward_steps(root: Value, grads: dict[Value, Any] | None = None) -> Iterator[Step]:
    """The steps of `root.backward()` in its order (reversed topological), the seed first.

    Pass a dict as `grads` to watch the running sums: after each step, grads[node] is what
    backward has added to node.grad so far.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps needs a Value, got {type(root).__name__}: {root!r}")
    return _steps(root, {} if grads is None else grads)


def _steps(root: Value, grads: dict[Value, Any]) -> Iterator[Step]:
    grads[root] = 1.0
    yield Step(0, root, 1.0, (), (), ())
    for index, link in enumerate(chain_rule(root, grads=grads), start=1):
        yield Step(index, link.node, link.grad, link.node.parents, link.partials,
                   link.contributions)
