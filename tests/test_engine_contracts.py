"""Engine behaviours that mutation testing (`make mutation`) found no other test pinned down."""

import pytest

from autograd_core import Value, grad, ops, topological_order, value_and_grad


def test_ordering_compares_data_at_ties():
    a, b = Value(1.0), Value(1.0)
    assert not a < b and a <= b and not a > b and a >= b
    assert not a < 1.0 and a <= 1 and not a > 1.0 and a >= 1


def test_detach_keeps_the_label():
    assert Value(2.0, "w").detach().label == "w"


def test_repr_shows_data_grad_and_label():
    x = Value(2.0, "x")
    assert repr(x) == "Value(data=2, grad=0, label='x')"
    (x * x).backward(create_graph=True)  # the grad is a Value: its data is shown
    assert repr(x) == "Value(data=2, grad=4, label='x')"
    assert repr(Value(0.5)) == "Value(data=0.5, grad=0)"


class _Other:
    """A foreign type with reflected operators: Value must return NotImplemented to it."""

    def __radd__(self, other):
        return "other.__radd__"

    def __rmul__(self, other):
        return "other.__rmul__"


def test_operators_defer_to_other_types():
    assert Value(1.0) + _Other() == "other.__radd__"
    assert Value(1.0) * _Other() == "other.__rmul__"


def test_value_and_grad_defaults_to_the_first_argument():
    assert value_and_grad(lambda x, y: x * y)(3.0, 4.0) == (12.0, 4.0)


def test_value_and_grad_of_values_returns_a_value():
    x = Value(3.0)
    value, g = value_and_grad(lambda v: v * v)(x)
    assert isinstance(value, Value) and value.data == 9.0 and g.data == 6.0


@pytest.mark.parametrize("argnums, ok", [(-2, True), (-3, False), (1, True), (2, False)])
def test_functional_grad_argnums_bounds(argnums, ok):
    f = grad(lambda x, y: x * y, argnums)
    if ok:
        assert f(3.0, 4.0) == (4.0 if argnums in (-2, 0) else 3.0)
    else:
        with pytest.raises(IndexError, match=f"argnums {argnums} is out of range"):
            f(3.0, 4.0)


def test_functional_grad_leaves_captured_nodes_grads_alone():
    w = Value(2.0)
    h = w * w  # built outside f, so part of the graph f's result hangs from
    h.grad, w.grad = 5.0, 7.0
    assert grad(lambda x: x * h)(3.0) == 4.0
    assert (h.grad, w.grad) == (5.0, 7.0)


def test_create_graph_first_contribution_is_the_grad_itself():
    # No `0 + step` node: a single path gives the product of partials and nothing more.
    x = Value(0.5)
    x.exp().backward(create_graph=True)
    assert x.grad.op is ops.MUL
    assert len(topological_order(x.grad)) == 4  # x → exp → mul(exp, 1.0)


def test_undefined_derivative_with_create_graph_is_named():
    x = Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0.0\)"):
        x.sqrt().backward(create_graph=True)


def test_undefined_derivative_message_lists_inputs_and_the_domain():
    x, y = Value(0.0), Value(0.0)
    with pytest.raises(ValueError) as info:
        (x**y).backward()  # ∂(0 ** y)/∂y at y = 0: 0 ** y jumps from 1 to 0 there
    assert "backward through 0.0 ** 0.0" in str(info.value)
    with pytest.raises(ZeroDivisionError, match="derivative x > 0"):
        Value(0.0).sqrt().backward()


@pytest.mark.parametrize("method, op", [(Value.tanh, ops.TANH), (Value.__add__, ops.ADD),
                                        (Value.__mul__, ops.MUL), (Value.exp, ops.EXP)])
def test_op_methods_carry_the_records_maths_doc(method, op):
    assert method.__doc__ == op.doc


def test_functional_grad_leaves_fresh_captured_nodes_at_zero():
    k = Value(2.0)
    inner = k * 3  # built outside f, used inside it: its grad must read 0 again afterwards
    assert grad(lambda x: x * inner)(4.0) == 6.0
    assert (k.grad, inner.grad) == (0.0, 0.0)


def test_a_new_node_has_an_empty_label():
    assert (Value(1.0, "a") * 2).label == ""


def test_one_input_method_refuses_an_argument_by_name():
    with pytest.raises(TypeError, match=r"exp\(\) takes 1 positional argument but 2"):
        Value(1.0).exp(2.0)


def test_negative_overflow_raises_too():
    with pytest.raises(OverflowError, match=r"-1e\+200 \* 1e\+200 overflows"):
        Value(-1e200) * 1e200
