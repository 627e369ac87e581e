"""Plain Python floats with a hand-written backward: the floor for any per-scalar engine."""

from __future__ import annotations

import sys
from typing import Any

from ..data import ALPHA, CHAIN_A, CHAIN_B, LR, Moons
from ..runs import ChainRun, StepRun, clock


class Floats:
    """The same arithmetic as the graph engines, in the same order, with no graph at all."""

    name = "floats"

    def version(self) -> str:
        """The Python version."""
        return sys.version.split()[0]

    def chain(self, n: int) -> ChainRun:
        """y = y·a + b forward; backward multiplies the seed by a once per step."""
        t0 = clock()
        y = 1.0
        for _ in range(n):
            y = y * CHAIN_A + CHAIN_B
        t1 = clock()
        g = 1.0
        for _ in range(n):
            g = CHAIN_A * g
        t2 = clock()
        return ChainRun(t1 - t0, t2 - t1, y, g)

    def trainer(self, moons: Moons) -> FloatTrainer:
        """The MLP as nested lists of floats."""
        return FloatTrainer(moons)

    def binary_nodes(self, out: list[Any]) -> None:
        """Fill `out` with products a·b: one float each."""
        a, b = 2.0, 3.0
        for i in range(len(out)):
            out[i] = a * b


class FloatTrainer:
    """MLP(2, [16, 16, 1]) forward and backward by hand, in the graph engines' order."""

    def __init__(self, moons: Moons) -> None:
        self.moons = moons
        # W[l][j] is neuron j's weight list, B[l][j] its bias, as in the scalar engines.
        self.W = [[[float(w) for w in W[:, j]] for j in range(len(b))] for W, b in moons.weights]
        self.B = [[float(v) for v in b] for _, b in moons.weights]

    def forward(self) -> tuple[float, list[Any]]:
        """The loss, and per point what backward needs: layer inputs, pre-activations, margin."""
        tape = []
        loss_sum = 0.0
        last = len(self.W) - 1
        for row, yi in zip(self.moons.X.tolist(), self.moons.y.tolist()):
            h, ins, zs = row, [], []
            for depth, (Wl, Bl) in enumerate(zip(self.W, self.B)):
                z = []
                for ws, act in zip(Wl, Bl):
                    for w, xi in zip(ws, h):
                        act = act + w * xi
                    z.append(act)
                ins.append(h)
                zs.append(z)
                h = z if depth == last else [max(0.0, v) for v in z]
            margin = 1.0 - yi * h[0]
            loss_sum = loss_sum + max(0.0, margin)
            tape.append((yi, ins, zs, margin))
        reg = 0.0
        for Wl, Bl in zip(self.W, self.B):
            for ws, b in zip(Wl, Bl):
                for w in ws:
                    reg = reg + w * w
                reg = reg + b * b
        return loss_sum * (1.0 / len(tape)) + ALPHA * reg, tape

    def backward(self, tape: list[Any]) -> tuple[list[list[list[float]]], list[list[float]]]:
        """∂loss/∂W and ∂loss/∂b, accumulated point by point, then the L2 term."""
        gW = [[[0.0] * len(ws) for ws in Wl] for Wl in self.W]
        gB = [[0.0] * len(Bl) for Bl in self.B]
        scale = 1.0 / len(tape)
        for yi, ins, zs, margin in tape:
            dz = [-(yi * scale)] if margin > 0.0 else [0.0]
            for depth in range(len(self.W) - 1, -1, -1):
                h, dh = ins[depth], [0.0] * len(ins[depth])
                for g, ws, row, j in zip(dz, self.W[depth], gW[depth], range(len(dz))):
                    gB[depth][j] += g
                    row[:] = [r + xi * g for r, xi in zip(row, h)]
                    dh = [d + w * g for d, w in zip(dh, ws)]
                if depth:
                    dz = [d if z > 0.0 else 0.0 for d, z in zip(dh, zs[depth - 1])]
        for Wl, Bl, gWl, gBl in zip(self.W, self.B, gW, gB):
            for ws, row in zip(Wl, gWl):
                for i, w in enumerate(ws):
                    row[i] += 2.0 * ALPHA * w
            for j, b in enumerate(Bl):
                gBl[j] += 2.0 * ALPHA * b
        return gW, gB

    def step(self) -> StepRun:
        """Forward, backward, update and dropping the tape, each timed."""
        t0 = clock()
        loss, tape = self.forward()
        t1 = clock()
        gW, gB = self.backward(tape)
        t2 = clock()
        for Wl, Bl, gWl, gBl in zip(self.W, self.B, gW, gB):
            for ws, row in zip(Wl, gWl):
                for i, g in enumerate(row):
                    ws[i] -= LR * g
            for j, g in enumerate(gBl):
                Bl[j] -= LR * g
        t3 = clock()
        del tape
        t4 = clock()
        grads = [g for gWl, gBl in zip(gW, gB) for row, gb in zip(gWl, gBl) for g in (*row, gb)]
        return StepRun(t1 - t0, t2 - t1, t3 - t2, t4 - t3, loss, grads)

    def graph(self) -> tuple[Any, int]:
        """The forward tape (no nodes: only the floats backward needs)."""
        return self.forward(), 0


ENGINE = Floats()
