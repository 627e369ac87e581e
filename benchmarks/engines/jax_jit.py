"""JAX: the hand-written step in jax.numpy, value_and_grad and the update in one jax.jit
(float64 on the CPU), each call timed until its result is ready — what a user who wants this
fast would write. Compiling happens in the first, untimed, call (as for `ours-compiled`)."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # float64, as every other engine; before any array
# Run each program on the calling thread: a benchmark waits for every step anyway, and async
# dispatch would move the work to a thread the timing has to chase.
jax.config.update("jax_cpu_enable_async_dispatch", False)

import jax.numpy as jnp  # noqa: E402
import jaxlib  # noqa: E402

from ..data import ALPHA, CHAIN_A, CHAIN_B, LR, Moons  # noqa: E402
from ..runs import ChainRun, StepRun, cpu_clock  # noqa: E402

Params = list[tuple[Any, Any]]

# XLA may still compute on threads of its own, which the calling thread's CPU time would miss:
# this engine is timed in CPU time of the whole process (every thread's).
clock = cpu_clock


def _chain(x: Any, n: int) -> Any:
    """y = y·a + b, n times, as an XLA loop (the same products and adds in the same order)."""
    return jax.lax.fori_loop(0, n, lambda _, y: y * CHAIN_A + CHAIN_B, x)


# One program per n: the value and dy/dx in one call (reverse mode through the loop).
_chain_and_grad = jax.jit(jax.value_and_grad(_chain), static_argnums=1)


def loss(params: Params, X: Any, y: Any) -> Any:
    """mean(max(0, 1 − y·score)) + α·Σθ², the MLP with relu hidden layers and a linear output."""
    h = X
    for depth, (W, b) in enumerate(params):
        z = h @ W + b
        h = z if depth == len(params) - 1 else jnp.maximum(z, 0.0)
    hinge = jnp.maximum(1.0 - y * h, 0.0).mean()
    return hinge + ALPHA * sum((W * W).sum() + (b * b).sum() for W, b in params)


_loss = jax.jit(loss)  # the forward alone, for what a forward pass holds


@jax.jit
def step(params: Params, X: Any, y: Any) -> tuple[Any, Params, Params]:
    """The loss, its gradient and the SGD update θ ← θ − lr·∂L/∂θ, in one compiled program."""
    value, grads = jax.value_and_grad(loss)(params, X, y)
    updated = [(W - LR * gW, b - LR * gb) for (W, b), (gW, gb) in zip(params, grads)]
    return value, grads, updated


class Jax:
    """Both workloads as jitted jax.numpy programs."""

    name = "jax"

    def version(self) -> str:
        """jax and jaxlib versions, and the device the programs ran on."""
        return f"jax {jax.__version__}, jaxlib {jaxlib.__version__} ({jax.devices()[0].platform})"

    def chain(self, n: int) -> ChainRun:
        """One call of the compiled chain (compiled by the first call for this n, untimed)."""
        x = jnp.asarray(1.0)
        _chain_and_grad(x, n)[0].block_until_ready()
        t0 = clock()
        y, g = _chain_and_grad(x, n)
        g.block_until_ready()
        t1 = clock()
        return ChainRun(t1 - t0, 0.0, float(y), float(g))

    def trainer(self, moons: Moons) -> JaxTrainer:
        """The shared MLP as device arrays, its step compiled."""
        return JaxTrainer(moons)

    def binary_nodes(self, out: list[Any]) -> Any:
        """One array of len(out) products (an element is a "node")."""
        return (jnp.full(len(out), 2.0) * jnp.full(len(out), 3.0)).block_until_ready()


class JaxTrainer:
    """MLP(2, [16, 16, 1]); a step is one call of the compiled program."""

    def __init__(self, moons: Moons) -> None:
        self.X, self.y = jnp.asarray(moons.X), jnp.asarray(moons.y[:, None])
        self.params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in moons.weights]
        _loss(self.params, self.X, self.y).block_until_ready()  # compiled here, not in graph()

    def step(self) -> StepRun:
        """Loss, gradient and update in one call, waited for; its whole time is `forward`."""
        t0 = clock()
        value, grads, self.params = step(self.params, self.X, self.y)
        jax.block_until_ready(self.params)
        t1 = clock()
        host = [(np.asarray(gW), np.asarray(gb)) for gW, gb in grads]  # untimed: for checking
        flat = [float(v) for gW, gb in host for j in range(len(gb)) for v in (*gW[:, j], gb[j])]
        return StepRun(t1 - t0, 0.0, 0.0, 0.0, float(value), flat)

    def graph(self) -> tuple[Any, int]:
        """The compiled forward's result (no nodes: XLA frees its intermediates)."""
        return _loss(self.params, self.X, self.y).block_until_ready(), 0


ENGINE = Jax()
# Start XLA's CPU client now, at import: its start-up is not the memory of the first product.
jnp.zeros(1).block_until_ready()
