"""The shared inputs: seeded two-moons data, initial MLP weights and the workload constants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZES = (16, 16, 1)  # MLP(2, [16, 16, 1]): relu hidden layers, linear output (micrograd demo)
ALPHA = 1e-4  # L2 weight of the regulariser
LR = 0.1  # SGD step size
CHAIN_A, CHAIN_B = 1.0001, 0.0001  # the chain y = y·a + b


@dataclass
class Moons:
    """Points X (n×2), labels y in {-1, +1}, and per layer the weights W (n_in×n_out) and b."""

    X: np.ndarray
    y: np.ndarray
    weights: list[tuple[np.ndarray, np.ndarray]]

    def flat_weights(self) -> list[float]:
        """All parameters in the engines' order: per layer, per neuron, its weights, then bias."""
        return [float(v) for W, b in self.weights for j in range(len(b))
                for v in (*W[:, j], b[j])]


def moons(n: int = 100, seed: int = 0) -> Moons:
    """Two interleaved half circles with noise 0.1, and weights as micrograd's demo draws them.

    Weights are uniform(-1, 1), biases 0; everything comes from one seeded generator.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    t_out, t_in = np.linspace(0.0, np.pi, half), np.linspace(0.0, np.pi, n - half)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
                        np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)])
    X += rng.normal(scale=0.1, size=X.shape)
    y = np.concatenate([-np.ones(half), np.ones(n - half)])
    weights = []
    n_in = 2
    for n_out in SIZES:
        weights.append((rng.uniform(-1.0, 1.0, size=(n_in, n_out)), np.zeros(n_out)))
        n_in = n_out
    return Moons(X, y, weights)
