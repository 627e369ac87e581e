"""Toy datasets as numpy arrays (X, y), seeded, and a minibatch iterator. No sklearn needed.

Every generator draws from `np.random.RandomState(seed)`: its streams are frozen across numpy
versions, so a seed names the same data forever (and `make_moons` draws exactly what
sklearn's `make_moons` draws for the same seed).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

RandomSeed = int | np.random.RandomState | None

# The 3×3 "world's smallest network" patterns: three ways to place each shape.
_BARS = np.eye(3)
PATTERN_CLASSES = ("vertical bar", "horizontal bar", "diagonal")


def _random_state(seed: RandomSeed) -> np.random.RandomState:
    if isinstance(seed, np.random.RandomState):
        return seed
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
        raise TypeError(f"seed must be an int, a numpy RandomState or None, got "
                        f"{type(seed).__name__}: {seed!r}")
    return np.random.RandomState(seed)


def _check_size(name: str, n: Any, low: int = 1) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    if n < low:
        raise ValueError(f"{name} must be at least {low}, got {n}")
    return int(n)


def _check_noise(noise: Any) -> float:
    if not isinstance(noise, numbers.Real) or not 0.0 <= float(noise) < np.inf:
        raise ValueError(f"noise must be a finite number ≥ 0, got {noise!r}")
    return float(noise)


def make_moons(n: int = 100, noise: float = 0.1, seed: RandomSeed = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, labels 0 (upper) and 1 (lower), plus N(0, noise²) noise."""
    n, noise, rng = _check_size("n", n, 2), _check_noise(noise), _random_state(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper, t_lower = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n_lower)
    X = np.concatenate([np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
                        np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])])
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    # Shuffle first and add the noise afterwards: sklearn's order of draws.
    order = np.arange(n)
    rng.shuffle(order)
    X, y = X[order], y[order]
    return X + rng.normal(scale=noise, size=X.shape), y


def make_xor(n: int = 4, noise: float = 0.0, seed: RandomSeed = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points cycling through the corners (0,0) (0,1) (1,0) (1,1) with label x₁ XOR x₂, plus
    noise; n = 4 and noise = 0 give the truth table."""
    n, noise, rng = _check_size("n", n), _check_noise(noise), _random_state(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n) % 4]
    y = (X[:, 0] != X[:, 1]).astype(int)
    return X + rng.normal(scale=noise, size=X.shape), y


def make_spiral(n: int = 100, classes: int = 3, noise: float = 0.2, seed: RandomSeed = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms of n points each: r ∈ [0, 1], angle noise N(0, noise²)."""
    n, classes = _check_size("n", n), _check_size("classes", classes)
    noise, rng = _check_noise(noise), _random_state(seed)
    r = np.tile(np.linspace(0.0, 1.0, n), classes)
    y = np.repeat(np.arange(classes), n)
    # Each arm turns through 4 radians, starting where the previous one ended.
    theta = np.concatenate([np.linspace(4.0 * k, 4.0 * (k + 1), n) for k in range(classes)])
    theta = theta + rng.normal(scale=noise, size=theta.shape)
    return np.column_stack([r * np.sin(theta), r * np.cos(theta)]), y


def make_circles(n: int = 100, noise: float = 0.05, factor: float = 0.5,
                 seed: RandomSeed = None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: radius 1 (label 0) and radius `factor` (label 1), plus noise."""
    n, noise, rng = _check_size("n", n, 2), _check_noise(noise), _random_state(seed)
    if not isinstance(factor, numbers.Real) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor (the inner radius) must be in (0, 1), got {factor!r}")
    n_outer = n // 2
    n_inner = n - n_outer
    # endpoint=False: the angle 2π would repeat the point at 0.
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
                        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])])
    y = np.concatenate([np.zeros(n_outer, dtype=int), np.ones(n_inner, dtype=int)])
    order = rng.permutation(n)
    return X[order] + rng.normal(scale=noise, size=X.shape), y[order]


def make_line(n: int = 50, w: float = 2.0, b: float = 0.0, noise: float = 0.1,
              seed: RandomSeed = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression data y = w·x + b + N(0, noise²), x ~ U(−1, 1); X has shape (n, 1)."""
    n, noise, rng = _check_size("n", n), _check_noise(noise), _random_state(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = w * x + b + rng.normal(scale=noise, size=n)
    return x.reshape(n, 1), y


def make_patterns(n: int = 60, noise: float = 0.1, seed: RandomSeed = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """3×3 images flattened to 9 inputs: a vertical bar (class 0), a horizontal bar (1) or a
    diagonal (2), each at a random position, plus N(0, noise²) pixel noise."""
    n, noise, rng = _check_size("n", n), _check_noise(noise), _random_state(seed)
    shapes = [
        [np.tile(_BARS[k], (3, 1)) for k in range(3)],  # a column of ones
        [np.tile(_BARS[k], (3, 1)).T for k in range(3)],  # a row of ones
        [np.eye(3), np.fliplr(np.eye(3))],  # either diagonal
    ]
    y = np.arange(n) % 3  # balanced classes
    X = np.array([shapes[c][rng.randint(len(shapes[c]))].ravel() for c in y])
    order = rng.permutation(n)
    return X[order] + rng.normal(scale=noise, size=X.shape), y[order]


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
                seed: RandomSeed = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (X_batch, y_batch) pairs of batch_size rows (the last may be smaller)."""
    batch_size = _check_size("batch_size", batch_size)
    if not isinstance(shuffle, bool):  # "no" would shuffle: a non-empty str is true
        raise TypeError(f"minibatches: shuffle must be a bool, got {type(shuffle).__name__}: "
                        f"{shuffle!r}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    order = _random_state(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], y[rows]


# The 1-D regression family of the function-approximation lesson, each y = f(x) on x ∈ [−1, 1]:
# a smooth curve, a kink, a jump, and a curve under noise.
CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": lambda x: np.sin(np.pi * x),  # one period: two bends
    "abs": np.abs,  # one kink: a ReLU network can be exact with two units
    "step": lambda x: (x > 0.0).astype(float),  # a jump: only approached, never met, by a spline
    "noisy": lambda x: x**2 + 0.5 * np.sin(4.0 * x) - 0.5,  # a wiggly curve, under noise
}


def make_curve(kind: str = "sine", n: int = 50, noise: float | None = None,
               seed: RandomSeed = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression data y = f(x) + N(0, noise²) at n evenly spaced x ∈ [−1, 1], f = CURVES[kind]
    (sine: sin πx, abs: |x|, step: [x > 0], noisy: x² + ½ sin 4x − ½); X has shape (n, 1).

    noise=None means none for the exact curves and 0.1 for "noisy"; the seed draws the noise."""
    if kind not in CURVES:
        raise ValueError(f"unknown curve {kind!r}; choose one of {', '.join(CURVES)}")
    n = _check_size("n", n, 2)
    noise = _check_noise((0.1 if kind == "noisy" else 0.0) if noise is None else noise)
    rng = _random_state(seed)
    x = np.linspace(-1.0, 1.0, n)
    y = CURVES[kind](x) + (rng.normal(scale=noise, size=n) if noise else 0.0)
    return x.reshape(n, 1), y
