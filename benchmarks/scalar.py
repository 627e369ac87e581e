"""The workloads for any engine whose scalars overload + − * and have .relu() and .backward().

Our engine, micrograd and torch 0-d tensors run this same code; only leaves, gradients and the
update differ, so the three build the very same graph (the micrograd demo's).
"""

from __future__ import annotations

from typing import Any

from .data import ALPHA, CHAIN_A, CHAIN_B, LR, Moons
from .runs import ChainRun, StepRun, clock


class ScalarEngine:
    """Workloads written once against operator overloading; subclasses say how to make leaves."""

    name = "scalar"

    def version(self) -> str:
        """The version of the package under test."""
        raise NotImplementedError

    def leaf(self, x: float, param: bool) -> Any:
        """A leaf scalar; `param` says it needs a gradient."""
        raise NotImplementedError

    def grad(self, v: Any) -> float:
        """The gradient accumulated in a leaf."""
        return float(v.grad)

    def scalar(self, v: Any) -> float:
        """The forward value of a node."""
        return float(v.data)

    def sgd(self, params: list[Any]) -> None:
        """p ← p − lr·∂L/∂p, then zero the gradient for the next step."""
        for p in params:
            p.data -= LR * p.grad
            p.grad = 0.0

    def count_nodes(self, root: Any) -> int:
        """How many nodes the graph below root has."""
        raise NotImplementedError

    def chain(self, n: int) -> ChainRun:
        """y = y·a + b, n times: 2n op nodes."""
        x = self.leaf(1.0, True)
        t0 = clock()
        y = x
        for _ in range(n):
            y = y * CHAIN_A + CHAIN_B
        t1 = clock()
        y.backward()
        t2 = clock()
        return ChainRun(t1 - t0, t2 - t1, self.scalar(y), self.grad(x))

    def trainer(self, moons: Moons) -> ScalarTrainer:
        """The MLP with the shared initial weights on the shared data."""
        return ScalarTrainer(self, moons)

    def binary_nodes(self, out: list[Any]) -> None:
        """Fill `out` with products a·b of two leaves."""
        a, b = self.leaf(2.0, True), self.leaf(3.0, True)
        for i in range(len(out)):
            out[i] = a * b


class ScalarTrainer:
    """MLP(2, [16, 16, 1]) on scalars: relu hidden layers, linear output, hinge loss + L2."""

    def __init__(self, engine: ScalarEngine, moons: Moons) -> None:
        self.engine = engine
        self.moons = moons
        # layers[l][j] = (weights of neuron j, its bias); params in Moons.flat_weights order
        self.layers = [[([engine.leaf(float(w), True) for w in W[:, j]],
                         engine.leaf(float(b[j]), True)) for j in range(len(b))]
                       for W, b in moons.weights]
        self.params = [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def loss(self) -> Any:
        """mean(relu(1 − y·score)) + α·Σp², built as micrograd's demo builds it."""
        leaf = self.engine.leaf
        scores = [self.score([leaf(float(v), False) for v in row]) for row in self.moons.X]
        losses = [(1.0 - float(yi) * s).relu() for yi, s in zip(self.moons.y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in self.params)
        return data_loss + reg_loss

    def score(self, x: list[Any]) -> Any:
        """The MLP's output for one point: act = b + Σ wᵢxᵢ per neuron, summed left to right."""
        last = len(self.layers) - 1
        for depth, layer in enumerate(self.layers):
            acts = [sum((w * xi for w, xi in zip(ws, x)), b) for ws, b in layer]
            x = acts if depth == last else [act.relu() for act in acts]
        return x[0]

    def step(self) -> StepRun:
        """Forward, backward, update and dropping the graph, each timed."""
        t0 = clock()
        loss = self.loss()
        t1 = clock()
        loss.backward()
        t2 = clock()
        grads = [self.engine.grad(p) for p in self.params]
        value = self.engine.scalar(loss)
        t3 = clock()
        self.engine.sgd(self.params)
        t4 = clock()
        del loss
        t5 = clock()
        return StepRun(t1 - t0, t2 - t1, t4 - t3, t5 - t4, value, grads)

    def graph(self) -> tuple[Any, int]:
        """The forward graph and its number of nodes."""
        loss = self.loss()
        return loss, self.engine.count_nodes(loss)
