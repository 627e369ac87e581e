"""Hypothesis strategies built from the op table's domains, for our tests and for yours."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, strategies as st

from .ops import Op

KINK_MARGIN = 1e-2  # central differences straddle a kink closer than this


def values(op: Op, margin: float = KINK_MARGIN) -> st.SearchStrategy[tuple[float, ...]]:
    """Input tuples for `op` inside its declared domain and at least `margin` from its kinks."""
    per_input = [st.floats(lo, hi, allow_nan=False, allow_infinity=False) for lo, hi in op.domain]

    @st.composite
    def inputs(draw: Any) -> tuple[float, ...]:
        xs = tuple(draw(s) for s in per_input)
        assume(op.kink is None or op.kink(*xs) > margin)
        return xs

    return inputs()
