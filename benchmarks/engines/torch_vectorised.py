"""Hand-vectorised PyTorch: the step as whole-tensor float64 ops on the CPU, backward by
torch's autograd — the PyTorch program a user would write for this model."""

from __future__ import annotations

from typing import Any

import torch

from ..data import ALPHA, CHAIN_A, CHAIN_B, LR, Moons
from ..runs import ChainRun, StepRun, cpu_clock

# One intra-op thread, as numpy's small matrix products get: the tensors here are far too small
# for a second thread to pay, and on a shared 2-core machine it only adds contention.
torch.set_num_threads(1)
# torch may still use threads of its own: timed in CPU time of the whole process.
clock = cpu_clock


class TorchVectorised:
    """Both workloads as tensor expressions."""

    name = "torch-vectorised"

    def version(self) -> str:
        """torch.__version__."""
        return str(torch.__version__)

    def chain(self, n: int) -> ChainRun:
        """y_n = aⁿ·y₀ + b·Σ_{k<n} aᵏ with the powers from one cumprod; dy_n/dy₀ = aⁿ (as numpy)."""
        t0 = clock()
        powers = torch.cumprod(torch.full((n,), CHAIN_A, dtype=torch.float64), 0)
        y = float(powers[-1] * 1.0 + CHAIN_B * (1.0 + powers[:-1].sum()))
        t1 = clock()
        g = float(powers[-1])
        t2 = clock()
        return ChainRun(t1 - t0, t2 - t1, y, g)

    def trainer(self, moons: Moons) -> TorchTrainer:
        """The MLP as float64 weight tensors that require grad."""
        return TorchTrainer(moons)

    def binary_nodes(self, out: list[Any]) -> torch.Tensor:
        """One tensor of len(out) products (an element is a "node")."""
        n = len(out)
        return torch.full((n,), 2.0, dtype=torch.float64) * torch.full((n,), 3.0,
                                                                         dtype=torch.float64)


class TorchTrainer:
    """MLP(2, [16, 16, 1]) with matrix products; torch's autograd does the backward."""

    def __init__(self, moons: Moons) -> None:
        self.X = torch.tensor(moons.X, dtype=torch.float64)
        self.y = torch.tensor(moons.y[:, None], dtype=torch.float64)
        self.params = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
                        torch.tensor(b, dtype=torch.float64, requires_grad=True))
                       for W, b in moons.weights]

    def forward(self) -> torch.Tensor:
        """mean(max(0, 1 − y·score)) + α·Σθ²."""
        h = self.X
        for depth, (W, b) in enumerate(self.params):
            z = h @ W + b
            h = z if depth == len(self.params) - 1 else torch.relu(z)
        reg = sum((W * W).sum() + (b * b).sum() for W, b in self.params)
        return torch.relu(1.0 - self.y * h).mean() + ALPHA * reg

    def step(self) -> StepRun:
        """Forward, backward, update and dropping the graph, each timed."""
        t0 = clock()
        loss = self.forward()
        value = loss.item()
        t1 = clock()
        loss.backward()
        t2 = clock()
        grads = []
        with torch.no_grad():
            for W, b in self.params:
                grads.append((W.grad, b.grad))
                W -= LR * W.grad
                b -= LR * b.grad
                W.grad = b.grad = None
        t3 = clock()
        del loss
        t4 = clock()
        flat = [float(v) for gW, gb in grads for j in range(len(gb))
                for v in (*gW[:, j].tolist(), gb[j].item())]
        return StepRun(t1 - t0, t2 - t1, t3 - t2, t4 - t3, value, flat)

    def graph(self) -> tuple[Any, int]:
        """The loss tensor, which holds the forward's graph of whole-tensor ops (no scalar
        nodes, like numpy's arrays)."""
        return self.forward(), 0


ENGINE = TorchVectorised()
