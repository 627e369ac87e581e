"""gradcheck: backward's gradients (first and second order) against central finite differences."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .engine import Value, _as_float, grad, no_grad


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the input and both numbers."""


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _evaluate(f: Callable[..., Any], xs: Sequence[float]) -> float:
    with no_grad():
        out = f(*(Value(x) for x in xs))
    return out.data if isinstance(out, Value) else _as_float(out)


def numerical_gradient(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6
                       ) -> list[float]:
    """∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε for every input i: 2N forward passes."""
    xs = [_as_float(x) for x in inputs]
    result = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        result.append((_evaluate(f, up) - _evaluate(f, down)) / (2 * eps))
    return result


def _as_tuple(g: Any) -> tuple[float, ...]:
    return tuple(x.data if isinstance(x, Value) else float(x) for x in g)


def gradcheck(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, second_order: bool = False) -> bool:
    """True if backward's ∂f/∂xᵢ match central differences within atol + rtol·|numeric|.

    With second_order=True also checks ∂²f/∂xᵢ∂xⱼ (create_graph) against central differences
    of the first derivatives. Raises GradcheckError naming the input and both numbers.
    """
    xs = [_as_float(x) for x in inputs]
    argnums = tuple(range(len(xs)))
    if not xs:
        raise ValueError("gradcheck needs at least one input")
    analytic = _as_tuple(grad(f, argnums)(*xs))
    numeric = numerical_gradient(f, xs, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if not _close(a, n, atol, rtol):
            raise GradcheckError(
                f"gradient of input {i} (x={xs[i]!r}): backward gives {a!r}, central differences "
                f"give {n!r}; difference {abs(a - n):.3g} exceeds atol={atol} + "
                f"rtol={rtol}·|numeric|")
    if second_order:
        for i in argnums:
            # Row i of the Hessian: backward through the graph of ∂f/∂xᵢ ...
            def first(*vs: Any, i: int = i) -> Any:
                return grad(f, argnums)(*vs)[i]

            row = _as_tuple(grad(first, argnums)(*xs))
            # ... against central differences of ∂f/∂xᵢ itself.
            fd_row = [(_as_tuple(grad(f, argnums)(*_shift(xs, j, eps)))[i]
                       - _as_tuple(grad(f, argnums)(*_shift(xs, j, -eps)))[i]) / (2 * eps)
                      for j in argnums]
            for j, (a, n) in enumerate(zip(row, fd_row)):
                if not _close(a, n, atol, rtol):
                    raise GradcheckError(
                        f"second derivative d²f/dx{i}dx{j} at x={xs!r}: backward gives {a!r}, "
                        f"differences of first derivatives give {n!r}; difference "
                        f"{abs(a - n):.3g} exceeds atol={atol} + rtol={rtol}·|numeric|")
    return True


def _shift(xs: list[float], j: int, by: float) -> list[float]:
    moved = list(xs)
    moved[j] += by
    return moved
