"""Table-driven: every op record's partials against central differences, first and second order.

A new record in the op table is covered here the moment it exists.
"""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import OPS, GradcheckError, Value, gradcheck
from autograd_core.testing import values


def _over_variables(op, xs):
    """op as a function of its non-constant inputs only, and those inputs' values."""
    free = [i for i in range(op.arity) if i not in op.constant]

    def f(*vs):
        args = list(xs)
        for i, v in zip(free, vs):
            args[i] = v
        return op(*args)

    return f, [xs[i] for i in free]


@pytest.mark.parametrize("op", OPS.values(), ids=list(OPS))
@given(data=st.data())
def test_partials_match_central_differences(op, data):
    f, xs = _over_variables(op, data.draw(values(op)))
    gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("op", OPS.values(), ids=list(OPS))
@given(data=st.data())
def test_second_derivatives_match_differences_of_first(op, data):
    f, xs = _over_variables(op, data.draw(values(op)))
    gradcheck(f, xs, eps=1e-5, atol=1e-4, rtol=1e-3, second_order=True)


@pytest.mark.parametrize("op", [op for op in OPS.values() if op.constant], ids=str)
def test_constant_inputs_get_no_gradient(op):
    xs = [(lo + hi) / 2 for lo, hi in op.domain]
    vs = [Value(x) for x in xs]
    op(*vs).backward()
    assert all(vs[i].grad == 0.0 for i in op.constant)


@pytest.mark.parametrize("op", OPS.values(), ids=list(OPS))
def test_record_is_complete(op):
    assert op.name and op.label and op.doc and op.role
    assert op.arity in (1, 2)
    xs = [(lo + hi) / 2 + 0.123 for lo, hi in op.domain]
    assert op(*xs) == op(*[Value(x) for x in xs]).data  # numbers and Values agree


# mutmut 3 only mutates code inside functions, and the table's rules are module-level lambdas,
# so these tests break every record by hand: a wrong partial or a wrong forward must be caught.
def _mutated(op, field, wrong):
    """A copy of op whose `field` is `wrong(original)`, applied through the engine like any op."""
    return dataclasses.replace(op, **{field: wrong(getattr(op, field))})


def _check_inside_domain(op):
    # A different fraction of each domain, so that max and min are not at a tie.
    point = [lo + (hi - lo) * (0.37 + 0.21 * i) for i, (lo, hi) in enumerate(op.domain)]
    f, xs = _over_variables(op, point)
    gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("op", OPS.values(), ids=list(OPS))
def test_gradcheck_catches_a_mutated_partial(op):
    def off_by_half(partials):
        return lambda out, *xs: tuple(d + 0.5 for d in partials(out, *xs))

    _check_inside_domain(op)
    with pytest.raises(GradcheckError):
        _check_inside_domain(_mutated(op, "partials", off_by_half))


@pytest.mark.parametrize("op", OPS.values(), ids=list(OPS))
def test_gradcheck_catches_a_mutated_forward(op):
    def plus_half_x(forward):
        return lambda *xs: forward(*xs) + 0.5 * xs[0]

    with pytest.raises(GradcheckError):
        _check_inside_domain(_mutated(op, "forward", plus_half_x))
