"""The engine: lecture examples, graph shapes, grad modes, freeing, bad input."""

import asyncio
import gc
import math
import sys
import threading
import weakref

import numpy as np
import pytest

from autograd_core import (
    Value,
    collector_paused,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    ops,
    topological_order,
    value_and_grad,
)


def test_slides_xplusy_times_z():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (q.grad, x.grad, y.grad, z.grad) == (-4.0, -4.0, -4.0, 3.0)


def test_slides_max_gate_routes():
    x, y = Value(4.0), Value(2.0)
    x.max(y).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)


def _sigmoid_neuron_primitive(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1 / (1 + (-dot).exp())


def _sigmoid_neuron_gate(w, x):
    return (w[0] * x[0] + w[1] * x[1] + w[2]).sigmoid()


@pytest.mark.parametrize("neuron", [_sigmoid_neuron_primitive, _sigmoid_neuron_gate])
def test_slides_sigmoid_neuron(neuron):
    w = [Value(2.0), Value(-3.0), Value(-3.0)]
    x = [Value(-1.0), Value(-2.0)]
    f = neuron(w, x)
    f.backward()
    assert round(f.data, 2) == 0.73
    assert [round(v.grad, 3) for v in x] == [0.393, -0.590]
    assert [round(v.grad, 3) for v in w] == [-0.197, -0.393, 0.197]
    sigma = f.data
    assert w[2].grad == pytest.approx(sigma * (1 - sigma))


@pytest.mark.parametrize("t", [-1.5, 0.3, 2.0])
def test_slides_chain_rule_dz_dt(t):
    def z_of(t):
        x, y = t**2, 2 * t
        return x**2 * y - y**2

    assert grad(z_of)(t) == pytest.approx(10 * t**4 - 8 * t)


def test_functional_grad_argnums_and_nesting():
    slides = grad(lambda x, y, z: (x + y) * z, argnums=(0, 1, 2))
    assert slides(-2.0, 5.0, -4.0) == (-4.0, -4.0, 3.0)
    assert grad(grad(lambda x: x**3))(2.0) == 12.0
    assert grad(grad(grad(lambda x: x**3)))(2.0) == 6.0
    assert grad(grad(lambda x: x.sin()))(1.0) == pytest.approx(-math.sin(1.0))
    value, g = value_and_grad(lambda x, y: x * y, argnums=1)(3.0, 4.0)
    assert (value, g) == (12.0, 3.0)


def test_functional_grad_leaves_grads_alone_and_ignored_input_is_zero():
    x = Value(3.0)
    x.grad = 7.0
    ga, gb = grad(lambda a, b: a * a, argnums=(0, 1))(x, 5.0)
    assert isinstance(ga, Value) and ga.data == 6.0 and gb == 0.0  # a Value in: a graph out
    assert x.grad == 7.0
    assert grad(lambda a: 4.0)(1.0) == 0.0


def test_functional_grad_bad_argnums():
    with pytest.raises(IndexError, match="argnums 3"):
        grad(lambda x: x, argnums=3)(1.0)


def test_fanout_a_plus_a():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_fanout_x_times_x_keeps_both_parents():
    x = Value(3.0)
    y = x * x
    assert y.parents == (x, x)
    y.backward()
    assert x.grad == 6.0


def test_diamond():
    a = Value(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_chain_of_a_million_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x, k = Value(1.0), Value(1.0000001)
    y = x
    for _ in range(1_000_000):
        y = y * k
    y.backward()
    assert x.grad == pytest.approx(1.0000001**1_000_000)
    assert k.grad == pytest.approx(1_000_000 * 1.0000001**999_999)
    assert len(topological_order(y)) == 1_000_002


def test_topological_order_parents_first_each_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5
    pos = {v: i for i, v in enumerate(order)}
    assert all(pos[p] < pos[v] for v in order for p in v.parents)
    assert order[-1] is e


def test_backward_twice_accumulates_exactly_twice():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    once = [v.grad for v in (x, y, z, q, f)]
    f.backward()
    assert [v.grad for v in (x, y, z, q, f)] == [2 * g for g in once]


def test_zero_grad_resets_whole_graph():
    x, y = Value(2.0), Value(3.0)
    f = (x * y).tanh() + x
    f.backward()
    f.zero_grad()
    assert all(v.grad == 0.0 for v in topological_order(f))


def test_no_grad_records_nothing_and_is_a_decorator():
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
    assert y.op is None and y.parents == () and y.data == 7.0

    @no_grad()
    def f(v):
        return v.exp()

    assert f(x).parents == ()
    assert (x * 2).op is ops.MUL  # recording is back on after the block


def test_detach_is_a_new_leaf():
    x = Value(2.0)
    y = (x * 3).detach()
    assert y.op is None and y.parents == () and y.data == 6.0


def test_graph_freed_by_refcount_without_gc():
    gc.disable()
    try:
        x = Value(2.0)
        y = (x * x).tanh() + x.exp()
        y.backward()
        probes = [weakref.ref(v) for v in topological_order(y)]
        del x, y
        assert all(p() is None for p in probes)
    finally:
        gc.enable()


def test_grad_mode_is_per_thread():
    inside, done, seen = threading.Event(), threading.Event(), []

    def other_thread():
        seen.append((Value(1.0) * 2).op)  # a new thread records, whatever this one does
        with no_grad():
            inside.set()
            done.wait(10)

    with no_grad():
        thread = threading.Thread(target=other_thread)
        thread.start()
        assert inside.wait(10)
    try:  # the other thread is inside no_grad now; this one records again
        assert (Value(1.0) * 2).op is ops.MUL
    finally:
        done.set()
        thread.join()
    assert seen == [ops.MUL]


def test_grad_mode_is_per_asyncio_task():
    async def quiet(inside, done):
        with no_grad():
            inside.set()
            await done.wait()  # the other task runs while this one is inside no_grad
            return (Value(1.0) * 2).op

    async def main():
        inside, done = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(quiet(inside, done))
        await inside.wait()
        recorded = (Value(1.0) * 2).op
        done.set()
        return recorded, await task

    assert asyncio.run(main()) == (ops.MUL, None)


def test_grad_mode_decorators_restore_the_mode_on_recursion():
    # One decorator instance, entered again by a recursive call: the outer call must still
    # restore the mode it found, not the one the inner call found.
    @no_grad()
    def down(n):
        return down(n - 1) if n else is_grad_enabled()

    @enable_grad()
    def up(n):
        return up(n - 1) if n else is_grad_enabled()

    assert down(3) is False and is_grad_enabled()
    with no_grad():
        assert up(3) is True and not is_grad_enabled()
    assert is_grad_enabled()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_collector_paused_restores_what_it_found(enabled_before):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():  # nested: the inner block must not switch it back on
                pass
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
        with pytest.raises(ZeroDivisionError), collector_paused():
            1 / 0
        assert gc.isenabled() is enabled_before

        @collector_paused()
        def depth(n):  # re-entered by recursion: still restored once, at the outermost exit
            return depth(n - 1) if n else gc.isenabled()

        assert depth(3) is False and gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_value_and_grad_frees_its_graph_before_the_collector_resumes():
    probes = []

    def f(x):
        assert not gc.isenabled()  # f and its backward run with the collector paused
        y = (x * x).tanh() + x.exp()
        probes.extend(weakref.ref(v) for v in topological_order(y))
        return y

    value, dx = value_and_grad(f)(0.5)
    assert gc.isenabled()
    assert value == pytest.approx(math.tanh(0.25) + math.exp(0.5))
    assert dx == pytest.approx((1 - math.tanh(0.25) ** 2) + math.exp(0.5))
    probes.clear()
    gc.disable()  # now only reference counting can free the graph
    try:
        value_and_grad(f)(0.5)
        assert probes and all(p() is None for p in probes)
    finally:
        gc.enable()


def test_value_coercion_and_attributes():
    assert Value(3).data == 3.0 and type(Value(3).data) is float
    assert Value(np.float32(1.5)).data == 1.5 and Value(np.int64(2)).data == 2.0
    v = Value(1.0, "v")
    assert (v.grad, v.label, v.op, v.parents) == (0.0, "v", None, ())
    v.data, v.grad = 4.0, 2.0  # writable, as optimizers need (checked: see test_value.py)
    with pytest.raises(AttributeError):
        v.op = "mul"
    assert {v: 1}[v] == 1


@pytest.mark.parametrize("bad", ["1.0", None, 1j, [1.0], np.array([1.0, 2.0])])
def test_value_refuses_non_reals_by_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_refuses_nan_and_inf(bad):
    with pytest.raises(ValueError, match="finite"):
        Value(bad)


def test_operators_refuse_non_reals():
    with pytest.raises(TypeError):
        Value(1.0) * "s"
    with pytest.raises(TypeError):
        Value(1.0) + None


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: Value(-1.0).log(), ValueError, ["log(-1.0)", "x > 0"]),
        (lambda: Value(0.0).log(), ValueError, ["log(0.0)"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt(-4.0)"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["0.0 ** (-1.0)"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["(-8.0) ** 0.333"]),
        (lambda: Value(-8.0) ** Value(0.5), ValueError, ["(-8.0) ** 0.5"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["1.0 / 0.0"]),
        (lambda: 1 / Value(0.0), ZeroDivisionError, ["1.0 / 0.0"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp(1000.0)"]),
        (lambda: Value(1e200) * 1e200, OverflowError, ["1e+200 * 1e+200"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["10.0 ** 400.0"]),
    ],
)
def test_bad_input_names_op_and_value(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_undefined_derivative_in_backward_is_named():
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0.0\)"):
        y.backward()


def test_negative_base_integer_exponent_is_real():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert (y.data, x.grad) == (-8.0, 12.0)


def test_numpy_object_arrays_build_the_graph():
    W = np.array([[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]])
    x = np.array([Value(1.0), Value(-1.0)])
    out = sum(W @ x)
    out.backward()
    assert out.data == -2.0
    assert [w.grad for w in W.ravel()] == [1.0, -1.0, 1.0, -1.0]
    assert isinstance(np.float64(2.0) * x[0], Value)


def test_reflected_operators():
    x = Value(2.0)
    assert [(2 + x).data, (2 - x).data, (2 * x).data, (2 / x).data, (2**x).data] == [
        4.0, 0.0, 4.0, 1.0, 4.0]
    assert sum([x, x, x]).data == 6.0


@pytest.mark.parametrize(
    "f, x, g",
    [
        (lambda v: v.relu(), 0.0, 0.0),
        (lambda v: v.abs(), 0.0, 0.0),
        (lambda v: v.step(), 3.0, 0.0),
        (lambda v: v.leaky_relu(), -2.0, 0.01),
        (lambda v: v.leaky_relu(), 0.0, 0.01),
    ],
)
def test_kink_conventions(f, x, g):
    assert grad(f)(x) == g


@pytest.mark.parametrize("method", ["max", "min"])
def test_max_min_tie_routes_everything_to_one_input(method):
    x, y = Value(1.0), Value(1.0)
    getattr(x, method)(y).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)
