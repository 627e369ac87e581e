"""micrograd 0.1.0 (PyPI), called as it is: its backward sorts the graph recursively."""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Any

from micrograd.engine import Value

from ..scalar import ScalarEngine

# micrograd's build_topo recurses once per node of the longest path; Python 3.11 keeps pure
# Python recursion off the C stack, so a high limit lets it try the long chains.
sys.setrecursionlimit(10_000_000)


class Micrograd(ScalarEngine):
    """micrograd.engine.Value through the shared scalar workloads."""

    name = "micrograd"

    def version(self) -> str:
        """The installed distribution's version."""
        return version("micrograd")

    def leaf(self, x: float, param: bool) -> Value:
        """A micrograd Value."""
        return Value(x)

    def count_nodes(self, root: Any) -> int:
        """Nodes reachable through `_prev` (a set per node), walked without recursion."""
        seen = {id(root)}
        stack = [root]
        while stack:
            for child in stack.pop()._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        return len(seen)


ENGINE = Micrograd()
