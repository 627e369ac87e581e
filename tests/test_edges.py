"""Derivatives at the edges of each op's domain: 0, negative bases, kinks and poles.

A derivative raises only where it is undefined; where it is defined it is the number PyTorch
documents (its autograd formulas in `tools/autograd/derivatives.yaml`), and the convention is
written on the record. Where we differ from PyTorch on purpose, the test says why.
"""

import math

import pytest

from autograd_core import OPS, Constant, Value, grad, ops


def d(f, x):
    return grad(f)(x)


def d2(f, x):
    return grad(grad(f))(x)


# --- powers --------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [0.0, -2.0, 3.5])
def test_x_to_the_zero_is_flat_everywhere(x):
    # PyTorch: pow_backward gives 0 where the exponent is 0, at x = 0 too.
    assert d(lambda v: v**0.0, x) == 0.0
    assert d2(lambda v: v**0.0, x) == 0.0
    assert d(lambda v: v ** Constant(0.0), x) == 0.0  # pow with a Value exponent (no grad)


def test_x_to_the_one_at_zero():
    assert d(lambda v: v**1.0, 0.0) == 1.0
    assert d2(lambda v: v**1.0, 0.0) == 0.0  # the slope 1·x⁰ = 1 is flat in x


def test_x_squared_and_cubed_at_zero():
    assert (d(lambda v: v**2, 0.0), d2(lambda v: v**2, 0.0)) == (0.0, 2.0)
    assert (d(lambda v: v**3, 0.0), d2(lambda v: v**3, 0.0)) == (0.0, 0.0)


@pytest.mark.parametrize("n, slope, curvature", [(3, 12.0, -12.0), (2, -4.0, 2.0),
                                                  (-1, -0.25, -0.25), (-2, 0.25, 0.375)])
def test_negative_base_with_integer_exponent(n, slope, curvature):
    # x = -2: d/dx xⁿ = n·xⁿ⁻¹ and d²/dx² = n(n−1)·xⁿ⁻².
    assert d(lambda v: v**n, -2.0) == slope
    assert d2(lambda v: v**n, -2.0) == curvature


def test_zero_base_value_exponent_has_slope_zero_for_positive_y():
    # PyTorch: pow_backward_exponent is 0 where the base is 0 and the exponent positive.
    assert d(lambda y: 0.0**y, 1.5) == 0.0
    assert d(lambda y: 0.0**y, 0.17) == 0.0  # the base's own partial would divide by zero
    assert d(lambda y: Value(0.0) ** y, 2.0) == 0.0


def test_zero_to_the_zero_has_no_slope_in_y():
    # 0 ** y is 1 at y = 0 and 0 for y > 0: a jump, so no derivative (PyTorch says 0: we raise).
    with pytest.raises(ValueError, match="backward through 0.0 \\*\\* 0.0"):
        d(lambda y: Value(0.0) ** y, 0.0)


def test_fractional_power_at_zero_raises_with_the_users_syntax():
    # √x's slope at 0 is infinite: an error naming `x ** n`, never inf and never `powc`.
    with pytest.raises(ZeroDivisionError) as info:
        d(lambda v: v**0.5, 0.0)
    assert "0.0 ** 0.5" in str(info.value) and "powc" not in str(info.value)


def test_negative_base_value_exponent_has_no_slope_in_y():
    # (-2) ** y is real only at integer y: ∂/∂y = xʸ·ln x is undefined.
    x = Value(-2.0)
    y = Value(2.0)
    out = x**y
    assert out.data == 4.0
    with pytest.raises(ValueError, match=r"backward through \(-2.0\) \*\* 2.0"):
        out.backward()
    assert (x.grad, y.grad) == (0.0, 0.0)  # nothing half-done


# --- kinks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, slope", [("relu", 0.0), ("abs", 0.0), ("step", 0.0),
                                           ("leaky_relu", 0.01)])
def test_kinks_at_zero(method, slope):
    # PyTorch: relu'(0) = 0 (threshold_backward), abs'(0) = sgn(0) = 0; leaky_relu takes the
    # negative slope at 0; step has slope 0 everywhere.
    assert d(lambda v: getattr(v, method)(), 0.0) == slope


def test_max_and_min_at_a_tie_route_everything_to_the_first_input():
    # Ours on purpose: the gradient goes to exactly one input, never split (PyTorch's maximum
    # splits a tie 0.5/0.5), so the routed gradients are always 0 or the whole upstream grad.
    assert grad(lambda a, b: a.max(b), argnums=(0, 1))(1.0, 1.0) == (1.0, 0.0)
    assert grad(lambda a, b: a.min(b), argnums=(0, 1))(1.0, 1.0) == (1.0, 0.0)


@pytest.mark.parametrize("x, expected", [(-3.0, (0.0, 1.0, 0.0)), (-2.0, (1.0, 0.0, 0.0)),
                                         (0.5, (1.0, 0.0, 0.0)), (2.0, (1.0, 0.0, 0.0)),
                                         (3.0, (0.0, 0.0, 1.0))])
def test_clamp_routes_to_x_on_and_between_the_bounds(x, expected):
    # PyTorch's clamp: x gets the gradient for lo ≤ x ≤ hi; a bound only when x is beyond it.
    assert grad(lambda v, lo, hi: v.clamp(lo, hi), argnums=(0, 1, 2))(x, -2.0, 2.0) == expected


def test_clamp_refuses_crossed_bounds():
    with pytest.raises(ValueError, match=r"clamp\(0.0, 2.0, -2.0\) is undefined: .*lo ≤ hi"):
        Value(0.0).clamp(2.0, -2.0)


# --- poles and domain ends ---------------------------------------------------------------------

@pytest.mark.parametrize("method, x", [("sqrt", 0.0), ("asin", 1.0), ("asin", -1.0),
                                       ("acos", 1.0), ("acos", -1.0)])
def test_infinite_slopes_raise_naming_the_op(method, x):
    # PyTorch returns inf here; we never let inf into a grad.
    with pytest.raises((ZeroDivisionError, ValueError, OverflowError), match=method):
        d(lambda v: getattr(v, method)(), x)


@pytest.mark.parametrize("method, x, slope", [
    ("log1p", 0.0, 1.0), ("expm1", 0.0, 1.0), ("softplus", 0.0, 0.5), ("atan", 0.0, 1.0),
    ("asin", 0.0, 1.0), ("acos", 0.0, -1.0), ("tan", 0.0, 1.0), ("sinh", 0.0, 1.0),
    ("cosh", 0.0, 0.0), ("tanh", 0.0, 1.0), ("sigmoid", 0.0, 0.25),
])
def test_slopes_at_zero(method, x, slope):
    assert d(lambda v: getattr(v, method)(), x) == slope


def test_softplus_is_finite_far_out():
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0
    assert d(lambda v: v.softplus(), 1000.0) == 1.0


@pytest.mark.parametrize("method, x, word", [("log1p", -1.0, "x > −1"), ("asin", 1.5, "−1 ≤ x"),
                                             ("acos", -1.5, "−1 ≤ x")])
def test_outside_the_domain_the_forward_raises_naming_it(method, x, word):
    with pytest.raises(ValueError, match=word):
        getattr(Value(x), method)()


def test_every_record_with_a_kink_writes_its_convention():
    assert all(op.convention or op.defined for op in OPS if op.kink is not None)
    assert "PyTorch" in ops.POW.convention


def test_large_finite_results_overflow_by_name():
    with pytest.raises(OverflowError, match=r"sinh\(1000.0\) overflows"):
        Value(1000.0).sinh()
    with pytest.raises(OverflowError, match=r"expm1\(1000.0\) overflows"):
        Value(1000.0).expm1()
    assert math.isfinite(Value(700.0).cosh().data)
