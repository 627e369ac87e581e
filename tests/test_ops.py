"""Table-driven: every op record's partials against central differences, first and second order.

A new record in the op table is covered here the moment it exists.
"""

import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import OPS, GradcheckError, Op, Value, apply, gradcheck, ops
from autograd_core.cli import FUNCTIONS
from autograd_core.testing import values

IDS = [op.name for op in OPS]


def _over_variables(op, xs):
    """op as a function of its non-constant inputs only, and those inputs' values."""
    free = [i for i in range(op.arity) if i not in op.constant]

    def f(*vs):
        args = list(xs)
        for i, v in zip(free, vs):
            args[i] = v
        return op(*args)

    return f, [xs[i] for i in free]


@pytest.mark.parametrize("op", OPS, ids=IDS)
@given(data=st.data())
def test_partials_match_central_differences(op, data):
    f, xs = _over_variables(op, data.draw(values(op)))
    gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("op", OPS, ids=IDS)
@given(data=st.data())
def test_second_derivatives_match_differences_of_first(op, data):
    f, xs = _over_variables(op, data.draw(values(op)))
    gradcheck(f, xs, eps=1e-5, atol=1e-4, rtol=1e-3, second_order=True)


@pytest.mark.parametrize("op", [op for op in OPS if op.constant], ids=str)
def test_constant_inputs_get_no_gradient(op):
    xs = [(lo + hi) / 2 for lo, hi in op.test_range]
    vs = [Value(x) for x in xs]
    op(*vs).backward()
    assert all(vs[i].grad == 0.0 for i in op.constant)


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_record_is_complete(op):
    assert op.name and op.label and op.doc and op.role
    assert op.arity == len(op.partials) == len(op.inputs) == len(op.test_range) >= 1
    xs = [(lo + hi) / 2 + 0.123 for lo, hi in op.test_range]
    assert op(*xs) == op(*[Value(x) for x in xs]).data  # numbers and Values agree
    marks = [f"<{i}>" for i in range(op.arity)]
    assert all(op.written(*marks).count(m) == 1 for m in marks)  # the syntax has every input
    if op.kink is not None:
        assert op.convention or op.defined, "a kink or pole needs its convention written down"


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_a_record_whose_rules_read_y_and_x_is_a_product_and_only_mul_reads_so(op):
    # The record reads "a product" off its rules (∂/∂x = y, ∂/∂y = x): backward takes such
    # partials without calling the rules, compile a layer of them through matrix products.
    # The reading must be true, and only for x·y.
    assert op.product == (op is ops.MUL)
    if op.product:
        rng = np.random.default_rng(0)
        for x, y in rng.uniform(*op.test_range[0], size=(50, 2)).tolist():
            out = op.forward(x, y)
            assert out == x * y
            assert [op.partials[0](out, x, y), op.partials[1](out, x, y)] == [y, x]


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_every_record_is_reachable_from_value_and_the_cli(op):
    # One record and nothing else: its method, its signature and its CLI function follow.
    if op.method:
        method = getattr(Value, op.name)
        assert method.__doc__ == op.formula
        assert list(inspect.signature(method).parameters)[1:] == list(op.inputs[1:])
        assert FUNCTIONS[op.name] is op
        xs = [(lo + hi) / 2 + 0.123 for lo, hi in op.test_range]
        assert method(Value(xs[0]), *xs[1:]).op is op
    else:
        assert op.name not in FUNCTIONS


def test_readme_lists_every_op():
    engine = Path(__file__).resolve().parents[1] / "docs" / "engine.md"  # the README's reference
    listed = engine.read_text(encoding="utf-8").split("<!-- ops -->")[1]  # between the markers
    missing = [op.name for op in OPS
               if op.method and not re.search(rf"[`.]{op.name}[`(]", listed)]
    assert not missing, f"docs/engine.md's op list lacks {missing}"


# mutmut 3 only mutates code inside functions, and the table's rules are module-level lambdas,
# so these tests break every record by hand: a wrong partial or a wrong forward must be caught.
def _mutated(op, field, wrong):
    """A copy of op whose `field` is `wrong(original)`, applied through the engine like any op."""
    return dataclasses.replace(op, **{field: wrong(getattr(op, field))})


def _check_inside_test_range(op):
    # A different fraction of each range, so that max and min are not at a tie.
    point = [lo + (hi - lo) * (0.37 + 0.21 * i) for i, (lo, hi) in enumerate(op.test_range)]
    f, xs = _over_variables(op, point)
    gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_gradcheck_catches_a_mutated_partial(op):
    def off_by_half(partials):
        return tuple(None if rule is None else rule + 0.5 if type(rule) is float
                     else (lambda rule: lambda *a: rule(*a) + 0.5)(rule) for rule in partials)

    _check_inside_test_range(op)
    with pytest.raises(GradcheckError):
        _check_inside_test_range(_mutated(op, "partials", off_by_half))


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_gradcheck_catches_a_mutated_forward(op):
    def plus_half_x(forward):
        return lambda *xs: forward(*xs) + 0.5 * xs[0]

    with pytest.raises(GradcheckError):
        _check_inside_test_range(_mutated(op, "forward", plus_half_x))


# --- records of the user's own --------------------------------------------------------------

def test_a_record_with_mismatched_fields_is_refused_naming_it():
    with pytest.raises(ValueError, match="op record 'twice'"):
        Op("twice", "2x", "scaler", "f = 2x", forward=lambda x: 2 * x,
           partials=(lambda out, x: 2.0, lambda out, x: 0.0), test_range=((-1.0, 1.0),))
    with pytest.raises(TypeError, match="op record 'twice'"):
        Op("twice", "2x", "scaler", "f = 2x", forward=lambda x: 2 * x, partials=("2",),
           test_range=((-1.0, 1.0),))


def test_applying_a_record_to_the_wrong_number_of_inputs_names_it():
    with pytest.raises(TypeError, match=r"clamp takes 3 inputs \(x, lo, hi\), got 2"):
        apply(ops.CLAMP, 1.0, 2.0)
    with pytest.raises(TypeError, match="apply needs an op record"):
        apply("tanh", Value(1.0))


def test_a_three_input_record_of_ones_own_backpropagates():
    fma = Op("fma", "fma", "scaler", "f = x·y + z; ∂f/∂x = y, ∂f/∂y = x, ∂f/∂z = 1",
             forward=lambda x, y, z: x * y + z,
             partials=(lambda out, x, y, z: y, lambda out, x, y, z: x, lambda out, x, y, z: 1.0),
             test_range=((-1.0, 1.0),) * 3)
    x, y, z = Value(2.0), Value(3.0), Value(4.0)
    out = apply(fma, x, y, z)
    out.backward()
    assert (out.data, x.grad, y.grad, z.grad) == (10.0, 3.0, 2.0, 1.0)
    assert gradcheck(lambda a, b, c: apply(fma, a, b, c), [0.3, -0.7, 0.2], second_order=True)


def test_a_forward_that_returns_a_non_number_names_the_record():
    bad = Op("bad", "bad", "scaler", "f = ?", forward=lambda x: "a",
             partials=(lambda out, x: 1.0,), test_range=((-1.0, 1.0),))
    with pytest.raises(TypeError, match="op record 'bad': forward returned 'a'"):
        apply(bad, Value(1.0))
