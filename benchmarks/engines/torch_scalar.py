"""PyTorch with 0-d float64 tensors: one autograd node per scalar op, as in a scalar engine."""

from __future__ import annotations

from typing import Any

import torch

from ..data import LR
from ..scalar import ScalarEngine


class TorchScalar(ScalarEngine):
    """torch 0-d tensors through the shared scalar workloads."""

    name = "torch"

    def version(self) -> str:
        """torch.__version__."""
        return str(torch.__version__)

    def leaf(self, x: float, param: bool) -> torch.Tensor:
        """A 0-d float64 tensor; parameters require grad."""
        return torch.tensor(x, dtype=torch.float64, requires_grad=param)

    def grad(self, v: Any) -> float:
        """The leaf's .grad as a float."""
        return float(v.grad.item())

    def scalar(self, v: Any) -> float:
        """The tensor's value as a float."""
        return float(v.item())

    def sgd(self, params: list[Any]) -> None:
        """p ← p − lr·∂L/∂p in place, then drop the gradient (torch's set_to_none)."""
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    def count_nodes(self, root: Any) -> int:
        """autograd Function nodes reachable from root.grad_fn."""
        seen = {root.grad_fn}
        stack = [root.grad_fn]
        while stack:
            for fn, _ in stack.pop().next_functions:
                if fn is not None and fn not in seen:
                    seen.add(fn)
                    stack.append(fn)
        return len(seen)


ENGINE = TorchScalar()
