"""The backward pass one step at a time: what `backward()` does, as records you can look at.

Nothing here changes a grad: the running grads live in the caller's hands (each step says what it
adds to each parent), so stepping through a graph never disturbs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .engine import Value, topological_order
from .ops import OPS


@dataclass(frozen=True)
class Step:
    """One step of backward: each parent grad += partial · grad (step 0: d root/d root = 1)."""

    index: int
    node: Value
    grad: float  # d(root)/d(node), complete by now: every node that uses `node` ran before it
    parents: tuple[Value, ...]  # node.parents; () for the seed
    partials: tuple[float, ...]  # ∂node/∂parent in parent order, from the op record
    contributions: tuple[float, ...]  # partial · grad: what this step adds to each parent's grad

    @property
    def seed(self) -> bool:
        """True for step 0, which only sets d(root)/d(root) = 1."""
        return self.index == 0


def local_partials(node: Value) -> tuple[float, ...]:
    """∂node/∂parent for each parent at the forward values: the op record's rule, as in backward."""
    if node.op is None:
        return ()
    rec = OPS[node.op]
    xs = [p.data for p in node.parents]
    try:
        return tuple(rec.partials(node.data, *xs))
    except (ArithmeticError, ValueError) as err:
        args = ", ".join(repr(x) for x in xs)
        raise type(err)(f"the derivative of {rec.name}({args}) is undefined there "
                        f"({rec.needs or err})") from None


def backward_steps(root: Value) -> Iterator[Step]:
    """The steps of `root.backward()` in its order (reversed topological), the seed first."""
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps needs a Value, got {type(root).__name__}: {root!r}")
    return _steps(root)


def _steps(root: Value) -> Iterator[Step]:
    order = topological_order(root)
    grads: dict[Value, float] = {root: 1.0}
    yield Step(0, root, 1.0, (), (), ())
    index = 1
    for node in reversed(order):
        if node.op is None:  # a leaf passes nothing on: backward skips it too
            continue
        g = grads[node]
        partials = local_partials(node)
        contributions = tuple(d * g for d in partials)
        for parent, c in zip(node.parents, contributions):
            # Same additions in the same order as backward, so the floats agree exactly.
            grads[parent] = grads.get(parent, 0.0) + c
        yield Step(index, node, g, node.parents, partials, contributions)
        index += 1
