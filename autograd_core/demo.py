"""`make demo`: the lecture's f = (x + y)·z, its values and gradients, its picture and its steps."""

from __future__ import annotations

import sys
from pathlib import Path

from .engine import Value
from .export import save, save_steps
from .render import renderer


def slides_graph() -> tuple[Value, ...]:
    """x, y, z, q = x + y, f = q·z at the slides' x = -2, y = 5, z = -4, every node labelled."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return x, y, z, q, f


def main(out: str | Path = "out") -> int:
    """Print values and gradients; write graph.svg and steps/steps.html (forward, then backward)."""
    nodes = slides_graph()
    f = nodes[-1]
    f.backward()
    for v in nodes:
        print(f"{v.label}: data {v.data:+.4f}  grad {v.grad:+.4f}")
    if renderer() is None:
        print("no Graphviz renderer found: `pip install graphviz-pure` to draw the pictures")
        return 1
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"picture:        {save(f, folder / 'graph.svg')}")
    print(f"step through:   {save_steps(f, folder / 'steps', forward=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
