"""autograd_core.compile(..., reassociate=True): the moons traces of `ours-compiled` with each
layer's weighted sums run as one BLAS matrix product (another order of the adds: eager's
numbers to rounding). The moons step only: a chain has no sums to reassociate."""

from __future__ import annotations

from typing import Any

from ..runs import ChainRun
from .ours_compiled import OursCompiled


class OursCompiledReassociate(OursCompiled):
    """The eager engine's moons graph, compiled with reassociate=True and replayed."""

    name = "ours-compiled-reassociate"
    reassociate = True
    measured = ()

    def chain(self, n: int) -> ChainRun:
        """Not run: a chain has no sum to reassociate (it is `ours-compiled`'s chain)."""
        raise NotImplementedError("a chain has no sums to reassociate: see ours-compiled")

    def compile_costs(self, points: int, sizes: tuple[int, ...]) -> dict[str, Any]:
        """Seconds to compile the moons loss."""
        return super().compile_costs(points, ())


ENGINE = OursCompiledReassociate()
