"""compile(..., backend="jax", reassociate=True): the moons traces of `ours-compiled-jax` with
each layer's weighted sums one XLA dot (another order of the adds: eager's numbers to
rounding). The moons step only, as `ours-compiled-jax`."""

from __future__ import annotations

from .ours_compiled_jax import OursCompiledJax


class OursCompiledJaxReassociate(OursCompiledJax):
    """The eager engine's moons graph, compiled to XLA with reassociate=True and replayed."""

    name = "ours-compiled-jax-reassociate"
    reassociate = True


ENGINE = OursCompiledJaxReassociate()
