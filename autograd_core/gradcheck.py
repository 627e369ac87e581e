"""gradcheck: backward's gradients (first and second order) against central finite differences."""

from __future__ import annotations

import math
import numbers
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


def _number(who: str, name: str, x: Any, sign: str = "") -> float:
    """x as a finite float, "positive" or "non-negative" if sign says so; otherwise a
    TypeError or ValueError naming it and its value."""
    if isinstance(x, Value):
        x = x.data
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {type(x).__name__}: {x!r}")
    try:
        x = float(x)
    except OverflowError:
        raise ValueError(f"{who}: {name} must be a finite number, got {x!r:.40}") from None
    # `not x > 0` also refuses NaN, which every comparison would silently let through.
    if sign == "positive" and not (x > 0 and math.isfinite(x)):
        raise ValueError(f"{who}: {name} must be a positive finite step, got {x!r}")
    if sign == "non-negative" and not x >= 0:
        raise ValueError(f"{who}: {name} must be ≥ 0, got {x!r}")
    if not math.isfinite(x):  # an infinite tolerance would pass every gradient
        raise ValueError(f"{who}: {name} must be a finite number, got {x!r}")
    return x


def _check_arguments(who: str, f: Any, inputs: Any, eps: Any) -> list[float]:
    """The inputs as finite floats, after f, inputs and eps are checked; errors name them."""
    if not callable(f):
        raise TypeError(f"{who}: f must be callable, got {type(f).__name__}: {f!r}")
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(f"{who}: inputs must be a sequence of numbers (a list or tuple), got "
                        f"{type(inputs).__name__}: {inputs!r}")
    _number(who, "eps", eps, "positive")
    return [_number(who, f"inputs[{i}]", x) for i, x in enumerate(inputs)]


def numerical_gradient(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6
                       ) -> list[float]:
    """∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ, hᵢ = ε·max(1, |xᵢ|), for every input i:
    2N forward passes."""
    xs = _check_arguments("numerical_gradient", f, inputs, eps)
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
              atol: float = 1e-5, rtol: float = 1e-3, second_order: bool = False,
              raise_exception: bool = True) -> bool:
    """True if backward's ∂f/∂xᵢ match central differences within atol + rtol·|numeric|.

    The step for input i is ε·max(1, |xᵢ|). With second_order=True also checks ∂²f/∂xᵢ∂xⱼ
    (create_graph) against central differences of the first derivatives. A mismatch raises
    GradcheckError naming the input and both numbers, or, with raise_exception=False, returns
    False (as torch.autograd.gradcheck); errors f itself raises always propagate. Bad
    arguments raise TypeError or ValueError naming them (eps > 0, atol and rtol ≥ 0, finite).
    """
    xs = _check_arguments("gradcheck", f, inputs, eps)
    _number("gradcheck", "atol", atol, "non-negative")
    _number("gradcheck", "rtol", rtol, "non-negative")
    for name, flag in (("second_order", second_order), ("raise_exception", raise_exception)):
        if not isinstance(flag, bool):
            raise TypeError(f"gradcheck: {name} must be a bool, got {type(flag).__name__}: "
                            f"{flag!r}")
    if not xs:
        raise ValueError("gradcheck needs at least one input")
    try:
        _gradcheck(f, xs, float(eps), float(atol), float(rtol), second_order)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(f: Callable[..., Any], xs: list[float], eps: float, atol: float, rtol: float,
               second_order: bool) -> None:
    argnums = tuple(range(len(xs)))
    gradient = grad(f, argnums)
    _compare(lambda i: f"gradient of input {i} (x={xs[i]!r})", _as_floats(gradient(*xs)),
             numerical_gradient(f, xs, eps), atol, rtol, "central differences")
    if second_order:
        for i in argnums:
            _check_hessian_row(gradient, xs, i, eps, atol, rtol)


def _check_hessian_row(gradient: Callable[..., Any], xs: list[float], i: int, eps: float,
                       atol: float, rtol: float) -> None:
    """Row i of the Hessian: backward through the graph of ∂f/∂xᵢ vs differences of ∂f/∂xᵢ."""
    argnums = tuple(range(len(xs)))
    row = _as_floats(grad(lambda *vs: gradient(*vs)[i], argnums)(*xs))
    fd_row = [_central(lambda p: _as_floats(gradient(*p))[i], xs, j, eps) for j in argnums]
    _compare(lambda j: f"second derivative d²f/dx{i}dx{j} at x={xs!r}", row, fd_row, atol, rtol,
             "differences of first derivatives")
