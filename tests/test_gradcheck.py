"""gradcheck: passes on right rules, fails loudly with both numbers on wrong ones."""

import dataclasses
import math

import pytest

from autograd_core import GradcheckError, Value, gradcheck, numerical_gradient, ops


def test_gradcheck_passes_first_and_second_order():
    assert gradcheck(lambda x, y: (x * y).tanh() + x**2 / y, [0.3, 1.2], second_order=True)


def test_gradcheck_failure_names_input_and_numbers():
    def wrong(x):  # f = x·x.data: backward sees a constant factor, the true slope is 2x
        return x * Value(x.data)

    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, [3.0])
    msg = str(info.value)
    assert "input 0" in msg and "backward gives 3.0" in msg and "atol" in msg
    numeric = float(msg.split("central differences give ")[1].split(";")[0])
    assert numeric == pytest.approx(6.0, rel=1e-9)  # the true slope 2x, to rounding


def test_numerical_gradient_costs_two_forwards_per_input():
    calls = []

    def f(x, y):
        calls.append(1)
        return x * y

    assert numerical_gradient(f, [2.0, 3.0]) == pytest.approx([3.0, 2.0])
    assert len(calls) == 4


def test_second_order_catches_a_rule_that_cuts_the_graph():
    # sin' = cos written on data: first derivatives are right, but the rule builds no graph,
    # so the second derivative comes out 0 instead of -sin x.
    cut = dataclasses.replace(
        ops.SIN, partials=(lambda out, x: math.cos(x.data if isinstance(x, Value) else x),))
    f = lambda x: cut(x)  # noqa: E731
    assert gradcheck(f, [0.7])
    with pytest.raises(GradcheckError, match=r"second derivative d²f/dx0dx0 at x=\[0.7\]"):
        gradcheck(f, [0.7], second_order=True)
