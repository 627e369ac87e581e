"""grad inside grad: closures over outer variables, three levels, and perturbation confusion.

Every expected number is derived by hand in the comment above it (and agrees with HIPS autograd
and JAX, which track nesting the same way: by a trace level, not by argument types).
"""

import pytest

from autograd_core import Value, grad, is_grad_enabled, value_and_grad


def test_closure_inner_grad_of_x_times_y():
    # d/dy (x·y) = x, so the outer function is x·x = x²: d/dx at 1 is 2.
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0


def test_closure_inner_grad_of_y_times_x_and_product_on_the_left():
    # Same maths, operands swapped everywhere: (d/dy y·x)·x = x², derivative 2x = 6 at 3.
    assert grad(lambda x: grad(lambda y: y * x)(2.0) * x)(3.0) == 6.0


def test_three_levels_of_nesting():
    # d/dz (x·y·z) = x·y; then d/dy (x·y·y) = 2xy = 6x at y = 3; then d/dx 6x = 6.
    inner = lambda x, y: grad(lambda z: x * y * z)(1.0)  # noqa: E731
    middle = lambda x: grad(lambda y: inner(x, y) * y)(3.0)  # noqa: E731
    assert grad(middle)(2.0) == 6.0


def test_perturbation_confusion_inner_argument_is_the_outer_variable():
    # d/dy (x + y) = 1 whatever y is, so the outer function is x·1: derivative 1, not 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(1.0) == 1.0
    # d/dy (x·y) = x, evaluated at y = x, is x: derivative 1 (differentiating x·x would give 2).
    assert grad(lambda x: grad(lambda y: x * y)(x))(1.0) == 1.0


def test_inner_grad_at_the_outer_variable_of_a_polynomial():
    # d/dy (y²·x³) = 2y·x³ = 2x⁴ at y = x; d/dx 2x⁴ = 8x³ = 27 at x = 1.5.
    assert grad(lambda x: grad(lambda y: y**2 * x**3)(x))(1.5) == pytest.approx(27.0, rel=1e-15)


def test_value_and_grad_inside_grad_returns_a_connected_value():
    # The value x·y at y = 2 is 2x: d/dx is 2. Its gradient x: d/dx is 1.
    assert grad(lambda x: value_and_grad(lambda y: x * y)(2.0)[0])(3.0) == 2.0
    assert grad(lambda x: value_and_grad(lambda y: x * y)(2.0)[1])(3.0) == 1.0


def test_grad_of_grad_of_grad():
    # x⁴: 4x³, 12x², 24x = 48 at 2.
    assert grad(grad(grad(lambda x: x**4)))(2.0) == 48.0


def test_nested_grad_with_several_argnums():
    # g(x) = ∂/∂a (a·b·x) + ∂/∂b (a·b·x) at (a, b) = (1, 2) = b·x + a·x = 3x: derivative 3.
    def g(x):
        da, db = grad(lambda a, b: a * b * x, argnums=(0, 1))(1.0, 2.0)
        return da + db

    assert grad(g)(5.0) == 3.0


def test_outside_any_grad_plain_numbers_come_back():
    value, g = value_and_grad(lambda y: y * y)(3.0)
    assert (type(value), type(g)) == (float, float) and (value, g) == (9.0, 6.0)


def test_nesting_leaves_no_trace_level_or_grad_mode_behind():
    grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0)
    assert type(grad(lambda y: y * y)(3.0)) is float  # back at the top level
    assert is_grad_enabled()


def test_a_failing_inner_grad_leaves_the_trace_level_as_it_was():
    with pytest.raises(ValueError, match="log"):
        grad(lambda x: x * grad(lambda y: (y - 5.0).log())(1.0))(1.0)
    assert type(grad(lambda y: y * y)(3.0)) is float


def test_outer_values_grads_are_untouched_by_nested_grads():
    w = Value(2.0)
    w.grad = 7.0
    assert grad(lambda x: x * grad(lambda y: w * x * y)(1.0))(3.0) == 12.0  # d/dx (2x²) at 3
    assert w.grad == 7.0
