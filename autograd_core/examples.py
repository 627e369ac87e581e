"""The lectures' examples: graphs ready-built for tests, notebooks and drawings, and the names
and seed of the training demos (here, not in nn, so the command line can offer them without
importing numpy and matplotlib)."""

from __future__ import annotations

from .engine import Value

DATASETS = ("moons", "xor", "circles", "spiral")
"""The 2-D datasets `autograd-core train` learns: autograd_core.nn.recipes has one recipe each."""
SEED = 1337  # micrograd's demo seeds both of its generators with 1337


def slides_graph() -> tuple[Value, ...]:
    """x, y, z, q = x + y, f = q·z at the slides' x = -2, y = 5, z = -4, every node labelled."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return x, y, z, q, f


def fanout_graph() -> tuple[Value, ...]:
    """x, y, m = x·y, h = m + x at x = 3, y = −4: x is used twice, so dh/dx = y + 1 = −3."""
    x, y = Value(3.0, "x"), Value(-4.0, "y")
    m = x * y
    m.label = "m"
    h = m + x
    h.label = "h"
    return x, y, m, h


README_PICTURE = "docs/slides_step1.png"
"""The README's picture: (x + y)·z at backward step 1, with its arithmetic and legend."""


def save_readme_picture(path: str = README_PICTURE) -> str:
    """Draw the README's picture to path (a .png): `python -m autograd_core.examples`."""
    from .export import save

    *_, f = slides_graph()
    f.backward()
    return str(save(f, path, step=1))


if __name__ == "__main__":
    import sys

    print(save_readme_picture(*sys.argv[1:2]))
