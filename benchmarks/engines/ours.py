"""autograd-core, this project: as its own training loop and functional API run it.

`nn.fit` runs each training step, and `value_and_grad` each call, inside `collector_paused()`:
our graphs hold no cycles, so they are freed by reference counting before the cycle collector
resumes, and it never rescans their live nodes. The `ours` row runs the shared workloads the
same way; `ours-plain` runs them in a bare loop with the collector running, as a hand-written
loop that does not use the pause gets them.
"""

from __future__ import annotations

from typing import Any

import autograd_core
from autograd_core import Value, collector_paused, topological_order

from ..data import Moons
from ..runs import ChainRun, StepRun
from ..scalar import ScalarEngine, ScalarTrainer


class OursPlain(ScalarEngine):
    """autograd_core.Value through the shared scalar workloads, the collector left running."""

    name = "ours-plain"

    def version(self) -> str:
        """The package version."""
        return autograd_core.__version__

    def leaf(self, x: float, param: bool) -> Value:
        """A Value; every Value can take a gradient."""
        return Value(x)

    def count_nodes(self, root: Any) -> int:
        """Nodes in the topological order below root."""
        return len(topological_order(root))


class PausedTrainer(ScalarTrainer):
    """The shared MLP step, built, differentiated, updated and dropped as `nn.fit` does."""

    @collector_paused()
    def step(self) -> StepRun:
        """Forward, backward, update and dropping the graph, each timed, collector paused."""
        return super().step()


class Ours(OursPlain):
    """autograd_core.Value, each workload run inside `collector_paused()`."""

    name = "ours"

    @collector_paused()
    def chain(self, n: int) -> ChainRun:
        """The shared chain, built and backpropagated as `value_and_grad` runs a function."""
        return super().chain(n)

    def trainer(self, moons: Moons) -> PausedTrainer:
        """The shared MLP whose steps run as `nn.fit` runs them."""
        return PausedTrainer(self, moons)


ENGINE = Ours()
