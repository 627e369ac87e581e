"""Replay = eager, by construction (issue 21): a differential suite of random functions with
branches, detach, no_grad blocks, .data reads and closed-over Values, compiled and eager,
scalar and batched, compared number for number.

The engine reports to the trace in progress (`modes.tracing()`) every read of a Value's number,
every detach, every op run under no_grad and every leaf f creates: the compiler turns them into
guards, stop-gradient steps and constants.
"""

import numpy as np
import pytest

from autograd_core import Value, compile, no_grad, value_and_grad


def test_a_leaf_made_inside_f_is_a_constant_and_a_closed_over_one_is_read():
    c = Value(2.0)
    program = compile(lambda x: x * Value(3.0) + c, 1.0)
    assert program.traces[0].tape.constants == [3.0] and program.traces[0].tape.captured == [c]
    c.data = 4.0
    assert program(2.0) == (10.0, (3.0,))


def test_detach_replays_as_a_stop_gradient_recomputed_at_replay():
    program = compile(lambda x: x * x.detach(), 3.0)
    assert program(5.0) == (25.0, (5.0,))
    assert "(no gradient)" in program.listing()


def test_a_no_grad_block_is_recomputed_and_a_guard_on_it_compares_the_replayed_value():
    def f(x):
        with no_grad():
            s = x * 2.0
        return x * s if s > 1.0 else x * 3.0

    program = compile(f, 3.0, strict=True)
    assert program(4.0) == (32.0, (8.0,))  # s = 8 recomputed; its gradient cut
    assert value_and_grad(f)(4.0) == (32.0, 8.0)


def test_a_number_read_out_of_a_value_is_a_guard_naming_the_read():
    def f(x):
        return x * x if x.data > 0 else x * -1.0

    program = compile(f, 1.0)
    assert program(-3.0) == (3.0, (-1.0,))  # the read changed: retraced, as eager branches
    strict = compile(f, 1.0, strict=True)
    with pytest.raises(Exception, match=r"x\.data == 1\.0 was True when traced"):
        strict(-3.0)


def _random_function(seed, captured):
    """A function of two arguments doing, at random: arithmetic, tanh/relu/exp, a branch on a
    comparison, a detach, a no_grad block, a .data read used as a number, and arithmetic with
    closed-over Values."""
    rng = np.random.default_rng(seed)
    plan = [(int(rng.integers(8)), int(rng.integers(100))) for _ in range(10)]

    def f(x, y):
        nodes = [x, y]
        for kind, r in plan:
            a, b = nodes[r % len(nodes)], nodes[(r // 7) % len(nodes)]
            if kind == 0:
                node = a * b * 0.5 + a
            elif kind == 1:
                node = (a * 0.3).tanh() - b.relu()
            elif kind == 2:
                node = a * 1.5 if a > b else b - a * 0.5  # a guard
            elif kind == 3:
                node = a * b.detach()
            elif kind == 4:
                with no_grad():
                    s = (a * 0.2).exp()
                node = a * s + b
            elif kind == 5:
                node = a * (b.data * 0.25)  # a read used as a number
            elif kind == 6:
                node = a * captured[r % len(captured)] + b
            else:
                node = (a * 0.5).sigmoid() * b
            nodes.append(node)
        return nodes[-1] + nodes[-2] * 0.5
    return f


@pytest.mark.filterwarnings("ignore:f. 8 traces:RuntimeWarning")  # .data reads: the cap
@pytest.mark.parametrize("seed", range(25))
def test_random_functions_replay_like_eager_scalar_and_batched(seed):
    captured = [Value(0.7), Value(-1.2)]
    f = _random_function(seed, captured)
    rng = np.random.default_rng(seed + 1000)
    points = rng.uniform(-1.5, 1.5, size=(6, 2))
    program = compile(f, *points[0].tolist())
    eager = [value_and_grad(f, (0, 1))(*p) for p in points.tolist()]
    for p, (value, grads) in zip(points.tolist(), eager):
        got, got_grads = program(*p)
        assert got == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert got_grads == pytest.approx(grads, rel=1e-10, abs=1e-12)
    captured[0].data = 0.9  # a closed-over Value changed: replay reads it
    eager = [value_and_grad(f, (0, 1))(*p) for p in points.tolist()]
    values, (gx, gy) = program(points[:, 0], points[:, 1])
    for j, (value, grads) in enumerate(eager):
        assert values[j] == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert (gx[j], gy[j]) == pytest.approx(grads, rel=1e-10, abs=1e-12)
    assert len(program.traces) <= program.max_traces


def test_a_user_record_whose_array_forward_disagrees_is_refused_when_traced():
    from autograd_core import Op, apply

    double = Op("double", "2x", "linear", "f = 2x", forward=lambda x: 2.0 * x,
                array=lambda x: 3.0 * x, partials=(2.0,), test_range=((-1.0, 1.0),))
    with pytest.raises(ValueError, match=r"op record 'double': its array forward gives 3\.0 at "
                                         r"\(1\.0,\) where its forward gives 2\.0"):
        compile(lambda x: apply(double, x), 1.0)
    fixed = Op("double", "2x", "linear", "f = 2x", forward=lambda x: 2.0 * x,
               array=lambda x: 2.0 * x, partials=(2.0,), test_range=((-1.0, 1.0),))
    program = compile(lambda x: apply(fixed, x) * x, 1.0)
    assert program(3.0) == (18.0, (12.0,))
    assert program(np.array([3.0]))[0].tolist() == [18.0]


@pytest.mark.parametrize("unused, example", [(lambda x: x.log(), 0.5),
                                             (lambda x: (x - 2.0).sqrt(), 7.0),
                                             (lambda x: 1.0 / (x - 3.0), 0.5),
                                             (lambda x: x.acos(), 0.5)])
def test_an_op_whose_result_f_drops_still_fails_where_eager_fails(unused, example):
    def f(x):
        unused(x)  # computed, never used: eager still evaluates it, and fails outside its domain
        return x * 2.0

    program = compile(f, example)
    for point in (0.5, -1.0, 2.0, 3.0, 7.0):
        try:
            expected = f(Value(point)).data
        except (ValueError, ArithmeticError) as err:
            with pytest.raises(type(err), match=str(err).split(":")[0].replace("(", r"\(")
                               .replace(")", r"\)").replace("*", r"\*")):
                program(point)
            with pytest.raises(type(err)):
                program(np.array([example, point]))
        else:
            assert program(point) == (expected, (2.0,))
