"""Engine behaviours that mutation testing (`make mutation`) found no other test pinned down."""

import copy
import dataclasses
import math
import pickle

import pytest

from autograd_core import (
    Constant,
    Value,
    apply,
    chain_rule,
    grad,
    is_grad_enabled,
    local_partials,
    no_grad,
    ops,
    topological_order,
    value_and_grad,
)
from autograd_core.modes import tracer


def test_ordering_compares_data_at_ties():
    a, b = Value(1.0), Value(1.0)
    assert not a < b and a <= b and not a > b and a >= b
    assert not a < 1.0 and a <= 1 and not a > 1.0 and a >= 1


def test_detach_keeps_the_label():
    assert Value(2.0, "w").detach().label == "w"


def test_repr_shows_data_grad_and_label():
    x = Value(2.0, "x")
    assert repr(x) == "Value(data=2.0, grad=0.0, label='x')"  # as Python prints floats
    (x * x).backward(create_graph=True)  # the grad is a Value: its data is shown
    assert repr(x) == "Value(data=2.0, grad=4.0, label='x')"
    assert repr(Value(0.5)) == "Value(data=0.5, grad=0.0)"


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
    assert method.__doc__ == op.formula


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
    with pytest.raises(OverflowError, match=r"\(-1e\+200\) \* 1e\+200 overflows"):
        Value(-1e200) * 1e200


# --- found by `make mutation` after the op-record engine (issue 11) ---------------------------

class _Both:
    """A foreign type with forward and reflected operators for every arithmetic operator."""

    def _named(name):  # noqa: N805
        return lambda self, other: name

    for _op in ("add", "sub", "mul", "truediv", "pow"):
        locals()[f"__r{_op}__"] = _named(f"r{_op}")


@pytest.mark.parametrize("make, expected", [
    (lambda v, o: v + o, "radd"), (lambda v, o: v - o, "rsub"), (lambda v, o: v * o, "rmul"),
    (lambda v, o: v / o, "rtruediv"), (lambda v, o: v ** o, "rpow"),
])
def test_every_operator_defers_to_a_foreign_type(make, expected):
    assert make(Value(1.0), _Both()) == expected


@pytest.mark.parametrize("make", [lambda o: o + Value(1.0), lambda o: o - Value(1.0),
                                  lambda o: o * Value(1.0), lambda o: o / Value(1.0),
                                  lambda o: o ** Value(1.0)])
def test_every_reflected_operator_refuses_a_foreign_type(make):
    with pytest.raises(TypeError):
        make(object())


def test_messages_name_what_was_wrong_word_for_word():
    with pytest.raises(TypeError) as info:
        Value("a")
    assert str(info.value) == "Value needs a real number, got str: 'a'"
    with pytest.raises(ValueError) as info:
        Value(1.0).backward(float("nan"))
    assert str(info.value) == "backward's gradient needs a finite number, got nan"
    with pytest.raises(TypeError) as info:
        topological_order(3.0)
    assert str(info.value) == "topological_order needs a Value, got float: 3.0"
    with pytest.raises(TypeError) as info:
        apply(ops.EXP, 1.0, 2.0)
    assert str(info.value) == "exp takes 1 input (x), got 2"
    with pytest.raises(TypeError) as info:
        apply(ops.MUL, 1.0)
    assert str(info.value) == "mul takes 2 inputs (x, y), got 1"


def test_create_graph_warning_word_for_word_and_pointing_at_the_caller():
    x = Value(2.0)
    with pytest.warns(UserWarning) as record:
        (x * x).backward(create_graph=True)
    assert str(record[0].message) == (
        "backward(create_graph=True) makes each grad a graph that refers back to its node "
        "(x.grad depends on x): a reference cycle, freed only by the cycle collector. Call "
        "zero_grad() when done, or use grad(), which makes none")
    assert not record[0].filename.endswith("engine.py")  # it points at the caller's line


def test_create_graph_backward_accumulates_on_graph_grads():
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    (x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 12.0
    x.grad = 1.5
    (x * x).backward(create_graph=True)
    assert x.grad.data == 7.5


def test_create_graph_records_even_inside_no_grad():
    x = Value(3.0)
    y = x * x * x
    with no_grad():
        y.backward(create_graph=True)
    assert x.grad.op is not None and x.grad.data == 27.0
    first = x.grad
    x.grad = 0.0
    first.backward()  # d(3x²)/dx = 6x
    assert x.grad == 18.0


def test_a_node_reached_only_through_an_input_without_gradient_passes_nothing_on():
    x, y = Value(2.0), Value(3.0)
    n = y * 2.0  # only the exponent of x ** n: d(x ** n)/dn is not taken
    out = apply(ops.POWC, x, n)
    out.backward()
    assert (x.grad, y.grad, n.grad) == (6.0 * 2.0 ** 5, 0.0, 0.0)
    assert grad(lambda a, b: apply(ops.POWC, a, b * 2.0), argnums=(0, 1))(2.0, 3.0) == (192.0, 0.0)


def test_local_partials_are_numbers_unless_asked_for_graphs():
    y = Value(0.5).tanh()
    (d,) = local_partials(y)
    assert type(d) is float
    (dv,) = local_partials(y, create_graph=True)
    assert isinstance(dv, Value) and dv.data == d


def test_a_forward_that_returns_a_huge_int_overflows_by_name():
    huge = dataclasses.replace(ops.EXP, name="huge", syntax="", forward=lambda x: 10**400)
    with pytest.raises(OverflowError) as info:
        apply(huge, Value(1.0))
    assert str(info.value) == "huge(1.0) overflows a float (|result| > 1.8e308)"


def test_an_overflow_in_a_graph_of_grads_names_the_step():
    x = Value(1e-300)
    y = (x * 1e300) * 1e300  # finite forward; dy/dx = 1e300 · 1e300 overflows
    with pytest.raises(OverflowError) as info:
        y.backward(create_graph=True)
    assert str(info.value) == ("backward through 1e-300 * 1e+300: 1e+300 * 1e+300 overflows a "
                               "float (|result| > 1.8e308)")
    assert x.grad == 0.0


def test_copies_keep_labels_and_share_their_grad_graphs():
    x = Value(2.0, "x")
    y = x * x
    y.label = "y"
    x.grad = y  # a grad that is a node of the same graph
    z = y + 1.0
    copied = copy.deepcopy(z)
    cy = copied.parents[0]
    cx = cy.parents[0]
    assert (cx.label, cy.label) == ("x", "y") and cx.grad is cy
    x.grad = 0.0
    assert [n.label for n in topological_order(pickle.loads(pickle.dumps(z)))][:2] == ["x", "y"]


def test_constants_and_new_nodes_say_whether_they_are_constants():
    assert Value(1.0).constant is False and (Value(1.0) * 2).constant is False
    c = Constant(2.0)
    assert c.constant is True and c.label == ""


def test_bare_no_grad_turns_recording_off_inside_and_refuses_async_generators():
    seen = []

    @no_grad
    def inside():
        seen.append(is_grad_enabled())

    inside()
    assert seen == [False]
    with pytest.raises(TypeError, match="generator"):
        @no_grad
        async def agen():
            yield 1


def test_three_parents_are_placed_in_order():
    x, lo, hi = Value(0.5, "x"), Value(-1.0, "lo"), Value(1.0, "hi")
    order = topological_order(x.clamp(lo, hi))
    assert [n.label for n in order[:3]] == ["x", "lo", "hi"]


class _Recorder:
    """Stands in for a compile trace: keeps what Value's comparisons report."""

    def __init__(self):
        self.seen = []

    def compared(self, left, symbol, right, outcome):
        self.seen.append((left, symbol, right, outcome))


def test_every_comparison_reports_its_operands_and_outcome_to_a_trace():
    x, y = Value(1.0), Value(2.0)
    recorder = _Recorder()
    token = tracer.set(recorder)
    try:
        results = [x < y, x <= 0.5, x > y, x >= 1.0, bool(x), bool(Value(0.0))]
    finally:
        tracer.reset(token)
    assert results == [True, False, False, True, True, False]
    assert [(s, r, o) for _, s, r, o in recorder.seen] == [
        ("<", y, True), ("<=", 0.5, False), (">", y, False), (">=", 1.0, True), ("!=", 0.0, True),
        ("!=", 0.0, False)]
    assert all(left is x for left, *_ in recorder.seen[:5])


@pytest.mark.parametrize("make", [lambda o: o + Value(1.0), lambda o: o / Value(1.0),
                                  lambda o: o ** Value(1.0)])
def test_reflected_operators_let_python_say_unsupported_operand(make):
    with pytest.raises(TypeError, match="unsupported operand"):
        make(object())


def test_the_general_walk_needs_no_dict_and_starts_from_its_seed():
    x = Value(2.0)
    links = list(chain_rule(x * x))
    assert [link.contributions for link in links] == [(2.0, 2.0)]
    grads = {}
    list(chain_rule(x * 3.0, 5.0, grads=grads))
    assert grads[x] == 15.0


def test_the_general_walk_passes_nothing_through_an_input_without_gradient():
    x, y = Value(2.0), Value(3.0)
    n = y * 2.0
    grads = {}
    list(chain_rule(apply(ops.POWC, x, n), grads=grads))
    assert grads[x] == 192.0 and grads.get(y, 0.0) == 0.0


def test_a_seed_scales_graph_grads_too():
    x = Value(2.0)
    (x * x).backward(3.0, create_graph=True)
    assert x.grad.data == 12.0


def test_graph_partials_record_even_inside_no_grad():
    y = Value(0.5).tanh()
    with no_grad():
        (dv,) = local_partials(y, create_graph=True)
    assert dv.op is not None


@pytest.mark.parametrize("build, seed, message", [
    (lambda x, y: x.log(), 1.0,
     "backward through log(5e-324): its partial ∂/∂x = inf, not a finite number"),
    (lambda x, y: x * 2.0, 1e308,
     "backward through 5e-324 * 2.0: the contribution 2.0 · 1e+308 = inf, not a finite number"),
    (lambda x, y: y * x, 1e10,
     "backward through 1e+300 * 5e-324: the contribution 1e+300 · 10000000000.0 = inf, "
     "not a finite number"),
])
def test_a_non_finite_grad_names_its_step_word_for_word(build, seed, message):
    x, y = Value(5e-324), Value(1e300)
    with pytest.raises(OverflowError) as info:
        build(x, y).backward(seed)
    assert str(info.value) == message
    assert (x.grad, y.grad) == (0.0, 0.0)


def test_clamp_to_a_single_point_is_allowed():
    assert Value(0.3).clamp(1.0, 1.0).data == 1.0


@pytest.mark.parametrize("x", [0.5, 1e-3, 3.0, -0.5, -3.0])
def test_sigmoid_takes_the_branch_that_cannot_overflow(x):
    exact = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    assert Value(x).sigmoid().data == exact
