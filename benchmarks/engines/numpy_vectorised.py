"""Hand-vectorised numpy: whole arrays per op, the limit of the computation on this machine."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import ALPHA, CHAIN_A, CHAIN_B, LR, Moons
from ..runs import ChainRun, StepRun, clock


class Numpy:
    """Both workloads as array expressions."""

    name = "numpy"

    def version(self) -> str:
        """numpy.__version__."""
        return np.__version__

    def chain(self, n: int) -> ChainRun:
        """y_n = aⁿ·y₀ + b·Σ_{k<n} aᵏ with the powers from one cumprod; dy_n/dy₀ = aⁿ."""
        t0 = clock()
        powers = np.cumprod(np.full(n, CHAIN_A))  # a¹ … aⁿ, multiplied in the chain's order
        y = float(powers[-1] * 1.0 + CHAIN_B * (1.0 + powers[:-1].sum()))
        t1 = clock()
        g = float(powers[-1])
        t2 = clock()
        return ChainRun(t1 - t0, t2 - t1, y, g)

    def trainer(self, moons: Moons) -> NumpyTrainer:
        """The MLP as weight matrices."""
        return NumpyTrainer(moons)

    def binary_nodes(self, out: list[Any]) -> np.ndarray:
        """One array of len(out) products (an element is a "node")."""
        return np.full(len(out), 2.0) * np.full(len(out), 3.0)


class NumpyTrainer:
    """MLP(2, [16, 16, 1]) with matrix products; backward written out per layer."""

    def __init__(self, moons: Moons) -> None:
        self.X, self.y = moons.X, moons.y[:, None]
        self.params = [(W.copy(), b.copy()) for W, b in moons.weights]

    def forward(self) -> tuple[float, list[np.ndarray], np.ndarray]:
        """The loss, every layer's input, and the hinge margins."""
        h, ins = self.X, []
        for depth, (W, b) in enumerate(self.params):
            ins.append(h)
            z = h @ W + b
            h = z if depth == len(self.params) - 1 else np.maximum(z, 0.0)
        margin = 1.0 - self.y * h
        reg = sum(float((W * W).sum() + (b * b).sum()) for W, b in self.params)
        return float(np.maximum(margin, 0.0).mean()) + ALPHA * reg, ins, margin

    def backward(self, ins: list[np.ndarray], margin: np.ndarray) -> list[tuple[Any, Any]]:
        """(∂loss/∂W, ∂loss/∂b) per layer; relu' is read off the next layer's input being > 0."""
        dz = -self.y * (margin > 0.0) / len(margin)
        grads = []
        for depth in range(len(self.params) - 1, -1, -1):
            W, b = self.params[depth]
            h = ins[depth]
            grads.append((h.T @ dz + 2.0 * ALPHA * W, dz.sum(axis=0) + 2.0 * ALPHA * b))
            if depth:
                dz = (dz @ W.T) * (h > 0.0)
        return grads[::-1]

    def step(self) -> StepRun:
        """Forward, backward, update and dropping the arrays, each timed."""
        t0 = clock()
        loss, ins, margin = self.forward()
        t1 = clock()
        grads = self.backward(ins, margin)
        t2 = clock()
        for (W, b), (gW, gb) in zip(self.params, grads):
            W -= LR * gW
            b -= LR * gb
        t3 = clock()
        del ins, margin
        t4 = clock()
        flat = [float(v) for gW, gb in grads for j in range(len(gb)) for v in (*gW[:, j], gb[j])]
        return StepRun(t1 - t0, t2 - t1, t3 - t2, t4 - t3, loss, flat)

    def graph(self) -> tuple[Any, int]:
        """The forward arrays (no nodes)."""
        return self.forward(), 0


ENGINE = Numpy()
