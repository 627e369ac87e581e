"""Value as a Python and PyTorch user expects it: checked assignment, number habits, a seed
gradient, grad modes in every form, and a backward that is all or nothing."""

import asyncio
import copy
import dataclasses
import gc
import inspect
import math
import pickle
import sys
import threading
import weakref

import numpy as np
import pytest

from autograd_core import (
    Constant,
    Value,
    apply,
    collector_paused,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    ops,
    topological_order,
)

# --- data and grad stay valid --------------------------------------------------------------


@pytest.mark.parametrize("field", ["data", "grad"])
@pytest.mark.parametrize("bad, exc", [(math.nan, ValueError), (math.inf, ValueError),
                                      (-math.inf, ValueError), ("a", TypeError),
                                      (None, TypeError), (1j, TypeError), (True, TypeError),
                                      (10**400, ValueError)])
def test_assigning_a_non_number_or_non_finite_raises_at_once_naming_it(field, bad, exc):
    v = Value(1.0)
    with pytest.raises(exc, match=field):
        setattr(v, field, bad)
    assert (v.data, v.grad) == (1.0, 0.0)  # unchanged


def test_assigned_ints_and_numpy_numbers_become_floats():
    v = Value(1.0)
    v.data, v.grad = 5, np.float32(0.5)
    assert (type(v.data), type(v.grad), v.data, v.grad) == (float, float, 5.0, 0.5)


def test_a_grad_may_be_a_value_as_create_graph_leaves_it():
    v, w = Value(1.0), Value(2.0)
    v.grad = w
    assert v.grad is w


def test_op_parents_and_constant_are_read_only():
    y = Value(2.0) * 3
    for field in ("op", "parents", "constant"):
        with pytest.raises(AttributeError):
            setattr(y, field, None)
    assert y.op is ops.MUL and y.parents[1].constant and type(y.parents[1]) is Constant


# --- Python and PyTorch habits ----------------------------------------------------------------

def test_number_habits_read_the_data():
    v = Value(2.345678, "v")
    assert float(v) == v.item() == 2.345678
    assert f"{v:.2f}" == format(v, ".2f") == "2.35"
    assert round(v, 2) == 2.35 and round(v) == 2
    assert f"{v}" == str(v) == repr(v) == "Value(data=2.345678, grad=0.0, label='v')"


def test_truth_is_by_value_as_for_pytorch_scalars():
    assert bool(Value(0.5)) and bool(Value(-1.0)) and not bool(Value(0.0))


def test_equality_is_identity_and_ordering_is_by_data():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and a <= b and not a < b
    assert len({a, b}) == 2


def test_help_shows_the_records_inputs_and_no_phantom_parameter():
    def shown(method):
        return [(p.name, p.default) for p in inspect.signature(method).parameters.values()]
    assert shown(Value.relu) == [("self", inspect.Parameter.empty)]
    assert shown(Value.leaky_relu) == [("self", inspect.Parameter.empty), ("slope", 0.01)]
    assert [name for name, _ in shown(Value.clamp)] == ["self", "lo", "hi"]
    assert Value.relu.__doc__ == ops.RELU.formula == "f = max(0, x); ∂f/∂x = [x > 0]"


def test_methods_refuse_non_numbers_instead_of_returning_notimplemented():
    for call in (lambda: Value(1.0).max("a"), lambda: Value(1.0).min(None),
                 lambda: Value(1.0).leaky_relu("a")):
        with pytest.raises(TypeError, match="needs a real number"):
            call()


# --- backward(gradient) ---------------------------------------------------------------------

def test_backward_takes_a_seed_gradient_like_pytorch():
    x = Value(2.0)
    (x * 3).backward(5.0)
    assert x.grad == 15.0


def test_create_graph_is_keyword_only():
    x = Value(2.0)
    with pytest.raises(TypeError):
        (x * 3).backward(1.0, True)  # type: ignore[misc]
    (x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 4.0


@pytest.mark.parametrize("bad", [math.nan, "1", None])
def test_a_bad_seed_is_refused_before_anything_changes(bad):
    x = Value(2.0)
    with pytest.raises((TypeError, ValueError), match="gradient"):
        (x * 3).backward(bad)
    assert x.grad == 0.0


# --- no inf or nan in a grad, and nothing lost --------------------------------------------------

@pytest.mark.parametrize("build, xs", [
    (lambda x, y: x.log(), (5e-324, 1.0)),  # 1/x overflows
    (lambda x, y: x / y, (1e-300, 1e-310)),  # -x/y² overflows
    (lambda x, y: (x * 1e200) * 1e200 * y, (1e-200, 1.0)),  # each partial finite, products not
])
def test_backward_never_writes_inf_or_nan(build, xs):
    x, y = Value(xs[0]), Value(xs[1])
    x.grad = 0.25
    root = build(x, y)
    with pytest.raises(OverflowError, match="backward through .*not a finite number"):
        root.backward()
    assert x.grad == 0.25 and y.grad == 0.0  # nothing changed


def test_fan_in_that_overflows_names_the_sum():
    x = Value(1e-10)
    with pytest.raises(OverflowError, match="add up to inf"):
        (x * 1.7e308 + x * 1.7e308).backward()
    assert x.grad == 0.0


def test_functional_grad_never_returns_inf():
    with pytest.raises(OverflowError, match=r"log\(5e-324\)"):
        grad(lambda x: x.log())(5e-324)


def test_concurrent_backward_on_a_shared_graph_is_exact():
    # Each walk keeps its sums in its own dict; adding them to the nodes is serialised.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        x = Value(0.5)
        y = x
        for _ in range(300):
            y = (y * 1.01).tanh() + x
        y.backward()
        once = x.grad
        x.grad = 0.0
        threads = [threading.Thread(target=y.backward) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert x.grad == pytest.approx(8 * once, rel=1e-12)
    finally:
        sys.setswitchinterval(switch)


# --- grad modes in every form ---------------------------------------------------------------------

def test_no_grad_as_with_call_decorator_and_bare_decorator():
    @no_grad()
    def called(v):
        return v * 2

    @no_grad
    def bare(v):
        return v * 2

    x = Value(1.0)
    with no_grad():
        assert (x * 2).op is None
    assert called(x).op is None and bare(x).op is None and (x * 2).op is ops.MUL
    assert bare.__name__ == "bare"


def test_enable_grad_inside_no_grad_in_every_form():
    @enable_grad
    def bare(v):
        return v * 2

    with no_grad():
        assert bare(Value(1.0)).op is ops.MUL
        with enable_grad():
            assert is_grad_enabled()
        assert not is_grad_enabled()


def test_no_grad_on_a_coroutine_holds_across_its_awaits():
    @no_grad()
    async def quiet():
        await asyncio.sleep(0)
        return is_grad_enabled(), (Value(1.0) * 2).op

    assert asyncio.run(quiet()) == (False, None)
    assert is_grad_enabled()


def test_no_grad_refuses_a_generator_function():
    with pytest.raises(TypeError, match="generator"):
        @no_grad
        def gen():
            yield 1


def test_collector_pause_is_counted_across_threads():
    assert gc.isenabled()
    first_in, second_out = threading.Event(), threading.Event()

    def other():
        with collector_paused():
            first_in.set()
            second_out.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    first_in.wait(10)
    with collector_paused():
        pass
    assert not gc.isenabled()  # the other thread is still inside its pause
    second_out.set()
    thread.join()
    assert gc.isenabled()


def test_collector_pause_keeps_a_collector_the_user_turned_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- pickle, deepcopy, and cycles ---------------------------------------------------------------

def _chain(n):
    x = Value(0.5, "x")
    y = x
    for _ in range(n):
        y = (y * 1.0001).tanh() + x
    return x, y


def test_a_deep_graph_pickles_and_deep_copies_without_recursion():
    x, y = _chain(3000)
    y.backward()
    for copied in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert copied.data == y.data and copied.op is y.op and copied is not y
        order = topological_order(copied)
        assert len(order) == len(topological_order(y))
        assert [n.grad for n in order] == [n.grad for n in topological_order(y)]


def test_pickling_nodes_together_keeps_their_leaves_shared():
    x, y = _chain(3)
    x2, y2 = pickle.loads(pickle.dumps((x, y)))
    assert x2 in set(topological_order(y2))
    x3, y3 = copy.deepcopy((x, y))
    assert x3 in set(topological_order(y3)) and x3 is not x


def test_a_record_of_ones_own_refuses_to_pickle_by_name():
    twice = dataclasses.replace(ops.TANH, name="twice")
    with pytest.raises(TypeError, match="op record 'twice' is not one of"):
        pickle.dumps(apply(twice, Value(1.0)))
    assert pickle.loads(pickle.dumps(ops.TANH)) is ops.TANH
    assert copy.deepcopy(ops.TANH) is ops.TANH


def test_a_graph_valued_grad_refuses_to_pickle_with_advice():
    x = Value(2.0)
    with pytest.warns(UserWarning, match="reference cycle"):
        (x * x).backward(create_graph=True)
    with pytest.raises(TypeError, match="zero_grad"):
        pickle.dumps(x)


def test_create_graph_warns_of_its_cycle_and_zero_grad_breaks_it():
    gc.disable()
    try:
        x = Value(2.0)
        y = x * x * x
        with pytest.warns(UserWarning, match="reference cycle"):
            y.backward(create_graph=True)
        probe = weakref.ref(x)
        y.zero_grad()
        del x, y
        assert probe() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_functional_grad_of_grad_leaves_no_cycle():
    gc.disable()
    try:
        x = Value(2.0)
        probe = weakref.ref(x)
        assert grad(grad(lambda v: v * v * v))(x).data == 12.0
        del x
        assert probe() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("bad", [5, None, b"x"])
def test_a_label_must_be_text(bad):
    with pytest.raises(TypeError, match="label needs a str"):
        Value(1.0, bad)
    v = Value(1.0, "v")
    with pytest.raises(TypeError, match="label needs a str"):
        v.label = bad
    assert v.label == "v"


def test_a_failing_functional_grad_leaves_every_grad_as_it_was():
    w = Value(4.0)
    w.grad = 7.0
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0.0\)"):
        grad(lambda x: (x * w - 4.0).sqrt() * w)(1.0)
    assert w.grad == 7.0


def test_grad_walks_only_towards_its_input_so_an_unrelated_undefined_slope_never_runs():
    # PyTorch answers 1 here and never runs sqrt's backward; a walk of everything would raise
    c = Value(0.0)
    assert grad(lambda y: y + c.sqrt())(2.0) == 1.0
    w = Value(4.0)
    assert grad(lambda x: x * w + (w - 4.0).sqrt())(1.0) == 4.0
    assert w.grad == 0.0
