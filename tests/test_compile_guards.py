"""Guards and retraces: a comparison made while tracing is checked at every replay; a flip
retraces (or raises under strict=True), up to the retrace cap past which the program runs
eagerly; Values given as arguments stay bound, closed-over Values are read at replay."""

import threading
import warnings

import numpy as np
import pytest

from autograd_core import GuardError, Value, compile, value_and_grad
from autograd_core.compile import MAX_TRACES


def relu_by_branch(x):
    if x < 0:
        return x * 0.0
    return x


def test_reversediff_branch_traced_at_minus_one_replays_right_at_plus_one():
    program = compile(relu_by_branch, -1.3)
    assert program(-1.3) == (0.0, (0.0,))
    assert program(1.34) == (1.34, (1.0,))  # retraced: the guard x < 0 flipped
    assert len(program.traces) == 2
    value, (grad,) = program(np.array([-2.0, 3.0, -0.5, 0.25]))
    assert value.tolist() == [0.0, 3.0, 0.0, 0.25] and grad.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_strict_guard_raises_naming_the_comparison_and_its_line():
    program = compile(relu_by_branch, -1.3, strict=True)
    with pytest.raises(GuardError, match=r"x < 0\.0 was True when traced and is False at "
                                         r"\(1\.34\) \(.*test_compile_guards\.py:\d+: if x < 0:\)"):
        program(1.34)


def test_a_tie_made_by_cancelling_products_is_decided_as_eager_decides():
    def f(x, y):  # x·y − y·x is exactly 0 in eager; a fused multiply-add would leave a residue
        return (x * y - y * x).relu() * 3.0 + (x * y - y * x).abs() + x

    xs, ys = np.random.default_rng(5).normal(size=(2, 300))
    values, (gx, gy) = compile(f, 0.1, 0.3)(xs, ys)
    eager = [value_and_grad(f, (0, 1))(x, y) for x, y in zip(xs.tolist(), ys.tolist())]
    assert values.tolist() == [v for v, _ in eager]
    assert list(zip(gx.tolist(), gy.tolist())) == [tuple(g) for _, g in eager]

def test_a_program_keeps_at_most_max_traces_then_warns_once_naming_the_guard_and_runs_eagerly():
    def stepwise(x):  # 300 guards, one per half unit: each point flips one of them
        k = x * 0.0
        for i in range(-150, 150):
            if x > i / 2:
                k = k + 1.0
        return x * k

    xs = np.linspace(-70.0, 70.0, 300)
    program = compile(stepwise, 0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, (grad,) = program(xs)
        program(xs)  # past the cap: no second warning, no new trace
    assert len(program.traces) == MAX_TRACES == 8
    assert len(caught) == 1 and issubclass(caught[0].category, RuntimeWarning)
    assert "keeps flipping" in str(caught[0].message) and "x > " in str(caught[0].message)
    assert "test_compile_guards.py" in str(caught[0].message)
    eager = [value_and_grad(stepwise)(float(x)) for x in xs]
    assert value.tolist() == [v for v, _ in eager]
    assert grad.tolist() == [g for _, g in eager]
    for x in (-69.9, 0.3, 69.2):  # one point past the cap: eager too
        value, grad = value_and_grad(stepwise)(x)
        assert program(x) == (value, (grad,))
    assert len(program.traces) == MAX_TRACES


def test_a_batch_retraces_only_for_the_points_no_earlier_trace_takes():
    calls = []

    def branchy(x):
        calls.append(1)
        return x * 2.0 if x > 0 else x * x

    program = compile(branchy, 1.0, max_traces=4)
    calls.clear()
    program(np.array([1.0, -1.0, 2.0, -3.0]))
    assert len(program.traces) == 2 and len(calls) == 1  # one retrace, for the negative points


def test_a_value_given_as_an_argument_stays_bound_when_a_guard_retraces():
    w = Value(2.0)
    program = compile(lambda w_, x: w * x if x > 0 else w * x * x, w, 3.0)
    assert program(2.0, 3.0) == (6.0, (3.0, 2.0))
    assert program(2.0, -3.0) == (18.0, (9.0, -12.0))  # retraced: w is still the argument
    assert w.data == 2.0 and w.grad == 0.0


def test_a_closed_over_value_is_read_at_each_replay_not_baked():
    c = Value(2.0)
    program = compile(lambda x: x * c, 3.0)
    assert program(3.0) == (6.0, (2.0,))
    c.data = 5.0
    assert program(3.0) == (15.0, (5.0,))  # as eager would: c's current data
    assert program(np.array([1.0, 2.0]))[0].tolist() == [5.0, 10.0]


def test_strict_reports_a_domain_error_as_eagers_error_not_a_guard():
    def f(x):
        y = x.log()
        return y if y > 0 else y * 2.0

    program = compile(f, 3.0, strict=True)
    with pytest.raises(ValueError, match=r"log\(-1\.0\) is undefined"):
        program(-1.0)
    with pytest.raises(GuardError, match=r"f > 0\.0 was True"):
        program(0.5)


def test_two_threads_forcing_replay_errors_leave_the_weights_unchanged():
    w = Value(2.0)
    program = compile(lambda w_, x: (w * x).log(), w, 3.0)
    errors = []

    def hammer(x):
        for _ in range(50):
            try:
                program(7.0, x)
            except ValueError as err:
                errors.append(err)

    threads = [threading.Thread(target=hammer, args=(x,)) for x in (-1.0, -2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 100 and w.data == 2.0 and w.grad == 0.0
    assert all("log(" in str(e) and "is undefined" in str(e) for e in errors)
