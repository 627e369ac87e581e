"""gradcheck: backward's gradients (first and second order) against central finite differences."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .engine import Value
from .functional import grad
from .modes import no_grad


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the input and both numbers."""


def _evaluate(f: Callable[..., Any], xs: Sequence[float]) -> float:
    with no_grad():
        out = f(*(Value(x) for x in xs))
    return out.data if isinstance(out, Value) else Value(out).data


def _shift(xs: Sequence[float], j: int, by: float) -> list[float]:
    moved = list(xs)
    moved[j] += by
    return moved


def _central(g: Callable[[list[float]], float], xs: Sequence[float], j: int, eps: float) -> float:
    """(g(x + heⱼ) − g(x − heⱼ)) / 2h with h = ε·max(1, |xⱼ|)."""
    # A step relative to the input: at x = 1e10 an absolute 1e-6 is below float spacing
    # (x + h == x) and a correct derivative would read as 0.
    h = eps * max(1.0, abs(xs[j]))
    return (g(_shift(xs, j, h)) - g(_shift(xs, j, -h))) / (2 * h)


def _check_tolerances(eps: float, atol: float = 0.0, rtol: float = 0.0) -> None:
    # `not x > 0` also refuses NaN, which every comparison would silently let through.
    if not eps > 0 or eps == float("inf"):
        raise ValueError(f"eps must be a positive finite step, got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not tol >= 0:
            raise ValueError(f"{name} must be ≥ 0, got {tol!r}")


def numerical_gradient(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6
                       ) -> list[float]:
    """∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ, hᵢ = ε·max(1, |xᵢ|), for every input i:
    2N forward passes."""
    _check_tolerances(eps)
    xs = [Value(x).data for x in inputs]
    return [_central(lambda p: _evaluate(f, p), xs, i, eps) for i in range(len(xs))]


def _as_floats(g: Any) -> tuple[float, ...]:
    return tuple(x.data if isinstance(x, Value) else float(x) for x in g)


def _compare(name: Callable[[int], str], analytic: Sequence[float], numeric: Sequence[float],
             atol: float, rtol: float, source: str) -> None:
    """Raise GradcheckError at the first i with |analytic − numeric| > atol + rtol·|numeric|."""
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if not abs(a - n) <= atol + rtol * abs(n):
            raise GradcheckError(
                f"{name(i)}: backward gives {a!r}, {source} give {n!r}; difference "
                f"{abs(a - n):.3g} exceeds atol={atol} + rtol={rtol}·|numeric|")


def gradcheck(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, second_order: bool = False) -> bool:
    """True if backward's ∂f/∂xᵢ match central differences within atol + rtol·|numeric|.

    The step for input i is ε·max(1, |xᵢ|). With second_order=True also checks ∂²f/∂xᵢ∂xⱼ
    (create_graph) against central differences of the first derivatives. Raises
    GradcheckError naming the input and both numbers; ValueError for eps ≤ 0, atol or rtol < 0.
    """
    _check_tolerances(eps, atol, rtol)
    xs = [Value(x).data for x in inputs]
    if not xs:
        raise ValueError("gradcheck needs at least one input")
    argnums = tuple(range(len(xs)))
    gradient = grad(f, argnums)
    _compare(lambda i: f"gradient of input {i} (x={xs[i]!r})", _as_floats(gradient(*xs)),
             numerical_gradient(f, xs, eps), atol, rtol, "central differences")
    if second_order:
        for i in argnums:
            _check_hessian_row(gradient, xs, i, eps, atol, rtol)
    return True


def _check_hessian_row(gradient: Callable[..., Any], xs: list[float], i: int, eps: float,
                       atol: float, rtol: float) -> None:
    """Row i of the Hessian: backward through the graph of ∂f/∂xᵢ vs differences of ∂f/∂xᵢ."""
    argnums = tuple(range(len(xs)))
    row = _as_floats(grad(lambda *vs: gradient(*vs)[i], argnums)(*xs))
    fd_row = [_central(lambda p: _as_floats(gradient(*p))[i], xs, j, eps) for j in argnums]
    _compare(lambda j: f"second derivative d²f/dx{i}dx{j} at x={xs!r}", row, fd_row, atol, rtol,
             "differences of first derivatives")
