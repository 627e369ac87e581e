"""Instructions per moons step, forward and backward, counted by callgrind: this tree beside
another commit's engine. Counts do not swing with the machine's load as times do, so a change of
a few percent shows; they are not times (a cache miss counts as one instruction).

`python -m benchmarks.instructions [COMMIT ...]` (default 62f0dbe) prints one row per engine:
the 20-point moons step (MLP(2, [16, 16, 1]), hinge + L2, collector paused), built three times
minus built zero times, ÷3, for forward; the same for three backward passes. Needs valgrind
and setarch (address randomisation off, so that two runs count alike); Debian: apt-get install
valgrind.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .run import export_commit

HERE = Path(__file__).resolve().parent
REPEAT = 3

# The workload, run by a fresh interpreter with the engine's folder first on its path.
STEP = r"""
import random, sys
sys.path.insert(0, sys.argv[1])
from autograd_core import Value, collector_paused
rnd = random.Random(0)
X = [(rnd.uniform(-1.5, 2.5), rnd.uniform(-1, 1.5)) for _ in range(20)]
Y = [1.0 if (x - 0.5) ** 2 + y * y < 1 else -1.0 for x, y in X]
sizes = [2, 16, 16, 1]
layers = [[([Value(rnd.uniform(-1, 1)) for _ in range(a)], Value(0.0)) for _ in range(b)]
          for a, b in zip(sizes, sizes[1:])]
params = [p for layer in layers for w, b in layer for p in (*w, b)]

def forward():
    total = None
    for (x0, x1), y in zip(X, Y):
        h = [x0, x1]
        for k, layer in enumerate(layers):
            h = [sum((wi * hi for wi, hi in zip(w, h)), b) for w, b in layer]
            if k < len(layers) - 1:
                h = [v.relu() for v in h]
        m = (1 + -y * h[0]).relu()
        total = m if total is None else total + m
    return total * (1.0 / len(X)) + 1e-4 * sum(p * p for p in params)

part, n = sys.argv[2], int(sys.argv[3])
with collector_paused():
    if part == "forward":
        graphs = [forward() for _ in range(n)]
    else:
        graphs = [forward() for _ in range(3)]
        for loss in graphs[:n]:
            loss.backward()
"""


def count(tree: str, part: str, n: int) -> int:
    """Instructions of one interpreter running the workload with n graphs (or passes)."""
    cmd = ["setarch", platform.machine(), "-R", "valgrind", "--tool=callgrind",
           "--callgrind-out-file=/dev/null", sys.executable, "-c", STEP, tree, part, str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed on {tree}: {proc.stderr.strip()[-300:]}")
    return int(found.group(1))


def per_step(tree: str) -> tuple[float, float]:
    """(forward, backward) instructions per step, in millions."""
    forward = (count(tree, "forward", REPEAT) - count(tree, "forward", 0)) / REPEAT
    backward = (count(tree, "backward", REPEAT) - count(tree, "backward", 0)) / REPEAT
    return forward / 1e6, backward / 1e6


def main(argv: list[str] | None = None) -> int:
    """Print a row per engine: this tree, then each commit given."""
    commits = (argv if argv is not None else sys.argv[1:]) or ["62f0dbe"]
    if shutil.which("valgrind") is None or shutil.which("setarch") is None:
        raise SystemExit("needs valgrind and setarch (Debian: apt-get install valgrind)")
    print("| engine | forward | backward | step | × this tree |")
    print("|---|---:|---:|---:|---:|")
    ours = per_step(str(HERE.parent))
    rows = [("this tree", ours)]
    with tempfile.TemporaryDirectory() as folder:
        for commit in commits:
            tree = os.path.join(folder, commit)
            os.mkdir(tree)
            rows.append((f"commit {export_commit(commit, tree)}", per_step(tree)))
    for name, (fwd, bwd) in rows:
        print(f"| {name} | {fwd:.1f}M | {bwd:.1f}M | {fwd + bwd:.1f}M | "
              f"{(fwd + bwd) / sum(ours):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
