"""The rule language: every record's partials, written once, agree on floats, Values, numpy
arrays and symbols — the four interpreters of one rule."""

import math

import numpy as np
import pytest

from autograd_core import OPS, Value, ops
from autograd_core.rules import Symbol, nonzero, where

IDS = [op.name for op in OPS]


def _points(op, n=40, seed=0):
    """Points of the record's test range, kept off its kinks and poles."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        xs = [float(rng.uniform(lo, hi)) for lo, hi in op.test_range]
        if op.kink is None or op.kink(*xs) > 1e-3:
            points.append(xs)
    return points


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_every_rule_agrees_on_floats_values_and_arrays(op):
    points = _points(op)
    columns = [np.array(c) for c in zip(*points)]
    outs = np.array([op.forward(*xs) for xs in points])
    np.testing.assert_allclose(op(*columns), outs, rtol=1e-13, atol=1e-300)  # array forward
    for i, rule in enumerate(op.partials):
        if rule is None:
            continue
        on_floats = [rule if type(rule) is float else rule(op.forward(*xs), *xs) for xs in points]
        on_values = []
        for xs in points:
            vs = [Value(x) for x in xs]
            d = rule if type(rule) is float else rule(op(*vs), *vs)
            on_values.append(d.data if isinstance(d, Value) else d)
        on_arrays = rule if type(rule) is float else rule(outs, *columns)
        np.testing.assert_allclose(on_values, on_floats, rtol=1e-13)
        np.testing.assert_allclose(np.broadcast_to(on_arrays, outs.shape), on_floats, rtol=1e-12)


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_every_rule_writes_itself_as_a_formula_without_python_branches(op):
    # A rule that branched with `if` would raise on a Symbol and be written ∂name/∂input.
    for i, rule in enumerate(op.partials):
        if rule is not None:
            written = op.partial_written(i)
            assert written and "∂" not in written, (op.name, written)
    assert op.formula.startswith(op.doc + "; ∂f/∂")


@pytest.mark.parametrize("op, formulas", [
    (ops.RELU, ["[x > 0]"]), (ops.TANH, ["1 − out²"]), (ops.SIGMOID, ["out·(1 − out)"]),
    (ops.MUL, ["y", "x"]), (ops.DIV, ["1/y", "−out/y"]), (ops.MAX, ["[x ≥ y]", "[x < y]"]),
    (ops.CLAMP, ["[lo ≤ x and x ≤ hi]", "[x < lo]", "[x > hi]"]), (ops.EXP, ["out"]),
    (ops.POWC, ["n·x ** (n − 1) if n ≠ 0 else 0", ""]), (ops.SQRT, ["1/(2·out)"]),
    (ops.ASIN, ["1/sqrt(1 − x²)"]), (ops.SUB, ["1", "−1"]),
])
def test_the_slides_formulas_are_read_off_the_rules(op, formulas):
    assert [op.partial_written(i) for i in range(op.arity)] == formulas


def test_where_evaluates_only_the_branch_taken_on_numbers_and_values():
    def undefined():
        raise ZeroDivisionError
    assert where(True, 1.0, undefined) == 1.0
    assert where(Value(0.0), undefined, 2.0) == 2.0  # a Value's data 0 is false
    with np.errstate(all="raise"):  # arrays evaluate both, silently, then choose
        x = np.array([0.0, 2.0])
        assert where(x > 0, lambda: 1.0 / x, 0.0).tolist() == [0.0, 0.5]


def test_nonzero_on_every_backend():
    assert nonzero(0.0) is False and nonzero(-2.0) is True
    assert nonzero(Value(3.0)) is True
    assert nonzero(np.array([0.0, 1.0])).tolist() == [False, True]
    assert str(nonzero(Symbol("x"))) == "x ≠ 0"


def test_a_symbol_refuses_python_branching_with_advice():
    with pytest.raises(TypeError, match="where"):
        bool(Symbol("x") > 0)


def test_pow_rules_keep_their_conventions_on_every_backend():
    # ∂(xʸ)/∂x = 0 at x = y = 0; ∂/∂y = 0 at x = 0, y > 0 (PyTorch's choices)
    dx, dy = ops.POW.partials
    assert dx(1.0, 0.0, 0.0) == 0.0 and dy(0.0, 0.0, 2.0) == 0.0
    x, y = np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 3.0])
    out = np.power(x, y)
    assert dx(out, x, y).tolist() == [0.0, 0.0, 12.0]
    # at x = y = 0, ∂/∂y = ln 0 is undefined: -inf on arrays (the replay names it), an error
    # on floats
    assert dy(out, x, y).tolist() == [-math.inf, 0.0, 8.0 * math.log(2.0)]
    with pytest.raises(ValueError):
        dy(1.0, 0.0, 0.0)


def test_an_op_runs_on_each_kind_of_argument():
    assert ops.TANH(0.5) == math.tanh(0.5)
    assert ops.TANH(Value(0.5)).op is ops.TANH
    assert ops.TANH(np.array([0.5])).tolist() == [math.tanh(0.5)]
    assert str(ops.TANH(Symbol("x"))) == "tanh(x)"
    assert str(ops.POWC(Symbol("x"), Symbol("n") - 1)) == "x ** (n − 1)"
    with pytest.raises(TypeError, match="tanh: cannot run on str"):
        ops.TANH("a")
