"""The lectures' example graphs, ready-built for tests, notebooks and drawings."""

from __future__ import annotations

from .engine import Value


def slides_graph() -> tuple[Value, ...]:
    """x, y, z, q = x + y, f = q·z at the slides' x = -2, y = 5, z = -4, every node labelled."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return x, y, z, q, f
