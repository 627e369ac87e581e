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


def _wrong(x):  # backward sees x·c with c = x's number: slope x, the truth 2x
    return x * Value(x.data)


def test_raise_exception_false_returns_false_on_a_mismatch_as_torch_does():
    assert gradcheck(_wrong, [3.0], raise_exception=False) is False
    assert gradcheck(lambda x: x * x, [3.0], raise_exception=False) is True


def test_raise_exception_false_also_covers_second_order():
    cut = dataclasses.replace(
        ops.SIN, partials=(lambda out, x: math.cos(x.data if isinstance(x, Value) else x),))
    assert gradcheck(lambda x: cut(x), [0.7], second_order=True, raise_exception=False) is False


def test_raise_exception_false_still_raises_what_f_itself_raises():
    # Only a disagreement becomes False; a function that fails is not "a wrong gradient".
    with pytest.raises(ValueError, match="log"):
        gradcheck(lambda x: x.log(), [-1.0], raise_exception=False)


def _same(x):
    return x


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((_same, [1.0]), {"eps": "a"}, TypeError, "eps must be a real number, got str: 'a'"),
    ((_same, [1.0]), {"eps": True}, TypeError, "eps must be a real number, got bool"),
    ((_same, [1.0]), {"eps": math.inf}, ValueError, "eps must be a positive finite step, got inf"),
    ((_same, [1.0]), {"atol": "x"}, TypeError, "atol must be a real number"),
    ((_same, [1.0]), {"rtol": math.inf}, ValueError, "rtol must be a finite number, got inf"),
    ((3, [1.0]), {}, TypeError, "f must be callable, got int: 3"),
    ((_same, 5), {}, TypeError, "inputs must be a sequence of numbers"),
    ((_same, "ab"), {}, TypeError, "inputs must be a sequence of numbers"),
    ((_same, ["a"]), {}, TypeError, "inputs[0] must be a real number, got str"),
    ((_same, [1.0, math.nan]), {}, ValueError, "inputs[1] must be a finite number, got nan"),
    ((_same, [1.0]), {"second_order": "yes"}, TypeError, "second_order must be a bool"),
    ((_same, [1.0]), {"raise_exception": 0}, TypeError, "raise_exception must be a bool, got int"),
])
def test_bad_arguments_are_named_with_their_value(args, kwargs, error, words):
    with pytest.raises(error) as info:
        gradcheck(*args, **kwargs)
    assert f"gradcheck: {words}" in str(info.value)


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((None, [1.0]), {}, TypeError, "f must be callable"),
    ((_same, [1.0]), {"eps": "a"}, TypeError, "eps must be a real number"),
    ((_same, [True]), {}, TypeError, "inputs[0] must be a real number, got bool"),
])
def test_numerical_gradient_names_its_bad_arguments(args, kwargs, error, words):
    with pytest.raises(error) as info:
        numerical_gradient(*args, **kwargs)
    assert f"numerical_gradient: {words}" in str(info.value)
