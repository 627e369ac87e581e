"""autograd-core, this project."""

from __future__ import annotations

from typing import Any

import autograd_core
from autograd_core import Value, topological_order

from ..scalar import ScalarEngine


class Ours(ScalarEngine):
    """autograd_core.Value through the shared scalar workloads."""

    name = "ours"

    def version(self) -> str:
        """The package version."""
        return autograd_core.__version__

    def leaf(self, x: float, param: bool) -> Value:
        """A Value; every Value can take a gradient."""
        return Value(x)

    def count_nodes(self, root: Any) -> int:
        """Nodes in the topological order below root."""
        return len(topological_order(root))


ENGINE = Ours()
