"""explain(node, root): one graph per reason a gradient is 0 or tiny, named with the node names
and numbers; the grads it reports are backward's own."""

import math

import pytest

from autograd_core import Constant, Value, explain
from autograd_core.explain import (
    BLOCKED,
    CANCELLED,
    CONSTANT,
    DEAD,
    ROUTED,
    SATURATED,
    TIMES_ZERO,
    UNUSED,
    VANISHING,
)


def named(node, label):
    node.label = label
    return node


def test_dead_relu_names_the_pre_activation_and_its_value():
    w, x = Value(2.0, "w"), Value(-0.35, "x")
    z = named(w * x, "z")
    loss = named(named(z.relu(), "h") * 3.0, "L")
    why = explain(w, loss)
    assert why.grad == 0.0 and why.kinds == (DEAD,)
    (reason,) = why.reasons
    assert reason.gate.label == "h" and reason.input is z and reason.slope == 0.0
    for words in ("dead relu", "z = -0.7", "h = relu(z)"):
        assert words in reason.text
    assert why.summary == ("dL/dw = 0: the one path from L to w crosses a gate that passes no "
                           "gradient")


def test_max_that_routed_elsewhere_says_where_the_gradient_went():
    a, b = Value(0.3, "a"), Value(1.2, "b")
    m = named(a.max(b), "m")
    why = explain(a, m)
    assert why.kinds == (ROUTED,)
    assert "it all goes to b" in why.reasons[0].text and "a = 0.3, b = 1.2" in why.reasons[0].text


def test_min_against_a_constant_is_a_dead_router_not_routed_to_a_number():
    x = Value(2.0, "x")
    f = named(x.min(1.0), "f")  # min(x, 1) at x = 2: the gradient goes to the literal 1
    assert explain(x, f).kinds == (DEAD,)


def test_step_gate_passes_nothing_anywhere():
    z = Value(0.5, "z")
    s = named(z.step(), "s")
    why = explain(z, s)
    assert why.kinds == (BLOCKED,) and "step gate" in why.reasons[0].text


@pytest.mark.parametrize("op, x", [("tanh", 8.0), ("sigmoid", -12.0)])
def test_saturated_squashing_gate_names_its_slope_below_1e_3(op, x):
    z = Value(x, "z")
    out = named(getattr(z, op)(), "a")
    why = explain(z, out)
    assert why.kinds == (SATURATED,) and 0.0 < abs(why.grad) < 1e-3
    (reason,) = why.reasons
    assert reason.slope == pytest.approx(why.grad) and f"saturated {op}" in reason.text
    out.backward()
    assert why.grad == z.grad  # the number backward gives


def test_unused_input_is_not_in_the_graph():
    x, u = Value(1.0, "x"), Value(2.0, "u")
    f = named(x * 2.0, "f")
    why = explain(u, f)
    assert why.kinds == (UNUSED,) and why.paths == 0 and "f does not use it" in str(why)


def test_constant_takes_no_gradient():
    c, x = Constant(2.0, "c"), Value(1.0, "x")
    f = named(x * c, "f")
    assert explain(c, f).kinds == (CONSTANT,)


def test_fanout_x_minus_x_cancels_term_by_term():
    x = Value(3.0, "x")
    f = named(x - x, "f")
    why = explain(x, f)
    assert why.grad == 0.0 and why.paths == 2 and why.open_paths == 2
    assert why.kinds == (CANCELLED,) and "1 · 1 = 1" in why.reasons[0].text


def test_constant_exponent_of_a_power_takes_no_gradient():
    x = Value(2.0, "x")
    f = named(x ** 3, "f")
    n = f.parents[1]
    assert explain(n, f).kinds == (CONSTANT,)


def test_product_with_a_zero_input():
    x, y = Value(0.0, "x"), Value(5.0, "y")
    f = named(x * y, "f")
    assert explain(y, f).kinds == (TIMES_ZERO,)
    assert explain(x, f).grad == 5.0  # the other input gets y


def test_chain_of_sigmoids_vanishes_with_no_single_tiny_slope():
    x = Value(0.3, "x")
    v = x
    for _ in range(12):
        v = v.sigmoid()
    why = explain(x, v)
    assert why.kinds == (VANISHING,) and why.reasons[0].slope == pytest.approx(why.grad)
    assert "12 slopes" in why.reasons[0].text


def test_only_the_gate_the_gradient_reaches_is_named():
    # Two relus in a row, both dead: the one nearer the root stops the gradient; the one
    # below it never sees any, so it is not a reason.
    x = Value(-1.0, "x")
    inner = named(x.relu(), "h1")
    outer = named((inner - 1.0).relu(), "h2")
    why = explain(x, outer)
    assert [r.gate.label for r in why.reasons] == ["h2"]


def test_a_blocked_path_beside_an_open_one_leaves_a_normal_grad():
    x = Value(-1.0, "x")
    f = named(x.relu() + 2.0 * x, "f")
    why = explain(x, f)
    assert why.grad == 2.0 and why.paths == 2 and why.open_paths == 1
    assert "1 of the 2 paths are blocked" in why.summary and why.kinds == (DEAD,)


def test_model_parameters_are_named_by_params():
    w = Value(1.0)
    f = named((w * -1.0).relu(), "f")
    assert explain(w, f, params={"layer.w": w}).summary.startswith("df/dlayer.w = 0")
    assert explain(w, f).summary.startswith("df/dq = 0")  # as the pictures name it


def test_unnamed_nodes_are_named_as_the_pictures_name_them():
    from autograd_core import to_dot

    x = Value(-1.0, "x")
    z = x * 3.0
    out = z.relu() + x
    why = str(explain(x, out))
    # out is the root f, z is q, relu(z) is r: the same names as the drawing's.
    assert why.startswith("df/dx = 1") or why.startswith("df/dx = ")
    assert "r = relu(q) at q = -3" in why
    dot = to_dot(out)
    assert "q = x * 3" in dot and "r = relu(q)" in dot and "f = r + x" in dot


def test_deep_chain_is_walked_without_recursion():
    x = Value(-1.0, "x")
    v = x.relu()
    for _ in range(20_000):
        v = v + 0.0
    why = explain(x, v)
    assert why.kinds == (DEAD,) and why.paths == 1


def test_explain_leaves_every_grad_as_it_was():
    x = Value(2.0, "x")
    f = named(x.tanh() * 3.0, "f")
    x.grad = 7.0
    explain(x, f)
    assert x.grad == 7.0 and f.grad == 0.0


@pytest.mark.parametrize("args, error", [((1.0, Value(1.0)), TypeError),
                                         ((Value(1.0), "f"), TypeError)])
def test_bad_arguments_are_named(args, error):
    with pytest.raises(error, match="needs two Values"):
        explain(*args)


def test_tiny_must_be_positive():
    x = Value(1.0)
    with pytest.raises(ValueError, match="tiny must be a positive number, got 0"):
        explain(x, x * 2.0, tiny=0)
    assert math.isclose(explain(x, x * 2.0).grad, 2.0)


def test_a_stopping_gate_shows_its_own_rule_in_the_graphs_names_not_internal_names():
    x = Value(-1.0, "x")
    dead = str(explain(x, named((x * 3.0).relu() + x, "f")))
    assert "∂r/∂q = [q > 0] = 0" in dead and "max(0, x)" not in dead  # no generic f and x
    flat = str(explain(x, named(x ** 0, "f")))
    assert "x ** n is flat here" in flat and "powc" not in flat
