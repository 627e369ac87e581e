"""gradcheck: passes on right rules, fails loudly with both numbers on wrong ones."""

import pytest

from autograd_core import GradcheckError, Value, gradcheck, numerical_gradient


def test_gradcheck_passes_first_and_second_order():
    assert gradcheck(lambda x, y: (x * y).tanh() + x**2 / y, [0.3, 1.2], second_order=True)


def test_gradcheck_failure_names_input_and_numbers():
    def wrong(x):  # f = x·x.data: backward sees a constant factor, the true slope is 2x
        return x * Value(x.data)

    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, [3.0])
    msg = str(info.value)
    assert "input 0" in msg and "3.0" in msg and "6.0" in msg and "atol" in msg


def test_numerical_gradient_costs_two_forwards_per_input():
    calls = []

    def f(x, y):
        calls.append(1)
        return x * y

    assert numerical_gradient(f, [2.0, 3.0]) == pytest.approx([3.0, 2.0])
    assert len(calls) == 4
