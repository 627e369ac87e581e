"""Our engine with the cyclic collector off while it runs: a reference row, not a contender.

It shows what CPython's cycle collector costs us. Our graphs hold no cycles, so reference
counting alone frees them; micrograd cannot run this way (its graphs are cycles). The switch
is made here, in the harness, around each timed run; the library never touches the collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from ..data import Moons
from ..runs import ChainRun, StepRun
from ..scalar import ScalarTrainer
from .ours import Ours


@contextmanager
def collector_off() -> Iterator[None]:
    """The cyclic GC disabled inside the block, and enabled again however it ends."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class GcOffTrainer(ScalarTrainer):
    """The shared MLP step with the collector off."""

    def step(self) -> StepRun:
        """Forward, backward and update, each timed, with no cyclic GC."""
        with collector_off():
            return super().step()


class OursGcOff(Ours):
    """autograd_core.Value with the cyclic GC off during each timed run."""

    name = "ours-gc-off"

    def chain(self, n: int) -> ChainRun:
        """The shared chain with no cyclic GC."""
        with collector_off():
            return super().chain(n)

    def trainer(self, moons: Moons) -> GcOffTrainer:
        """The shared MLP whose steps run with no cyclic GC."""
        return GcOffTrainer(self, moons)


ENGINE = OursGcOff()
