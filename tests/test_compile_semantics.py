"""Replay = eager, by construction (issue 21): a differential suite of random functions with
branches, detach, no_grad blocks, .data reads and closed-over Values, compiled and eager,
scalar and batched, compared number for number.

The engine reports to the trace in progress (`modes.tracing()`) every read of a Value's number,
every detach, every op run under no_grad and every leaf f creates: the compiler turns them into
guards, stop-gradient steps and constants.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import (
    GuardError,
    Value,
    compile,
    enable_grad,
    grad,
    hessian,
    no_grad,
    value_and_grad,
)


def test_a_leaf_made_inside_f_is_a_constant_and_a_closed_over_one_is_read():
    c = Value(2.0)
    program = compile(lambda x: x * Value(3.0) + c, 1.0)
    tape = program.traces[0].tape
    assert list(tape.constants) == [3.0] and tape.captured == [c]
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


# --- composition: a program inside grad is differentiated, never silently 0 (issue 21 item 3) ---

def test_a_program_closing_over_the_variable_of_an_enclosing_grad_passes_its_gradient_on():
    # the case: x closed over by the compiled lambda is value_and_grad's variable
    def f(x):
        return x * 2.0 + compile(lambda y: x * y, 1.0)(1.0)[0]

    assert value_and_grad(f)(3.0) == (9.0, 3.0)
    # JAX's test_jit_closure: the program traced at its first call, inside the grad
    assert value_and_grad(lambda x: compile(lambda y: x + y)(0.0)[0])(1.0) == (1.0, 1.0)


def test_grad_of_a_programs_call_with_respect_to_its_own_arguments_is_the_programs_gradient():
    c = Value(0.5)

    def f(a, b):
        return a * b * c + (a * c).tanh() - b.exp() * 0.1

    program = compile(f, 1.0, 2.0)
    for a, b in ((0.3, -0.7), (1.5, 0.2), (-2.0, 1.0)):
        expected = value_and_grad(f, (0, 1))(a, b)
        got = value_and_grad(lambda a_, b_: program(a_, b_)[0], (0, 1))(a, b)
        assert got[0] == expected[0]
        assert got[1] == pytest.approx(expected[1], rel=1e-12)
    assert grad(lambda a_: program(a_ * a_, 2.0)[0])(0.8) == pytest.approx(
        grad(lambda a_: f(a_ * a_, Value(2.0)))(0.8), rel=1e-12)


def test_second_and_third_derivatives_through_a_program_are_the_eager_engines():
    cube = compile(lambda y: y * y * y, 1.0)
    assert grad(grad(lambda x: cube(x)[0]))(2.0) == 12.0
    assert grad(grad(grad(lambda x: cube(x)[0])))(2.0) == 6.0
    assert grad(lambda x: cube(x)[1][0])(2.0) == 12.0  # the gradient it returns is a node too
    c = Value(0.5)
    program = compile(lambda a, b: a * b * c + (a * c).tanh(), 1.0, 2.0)
    through = hessian(lambda p: program(p[0], p[1])[0])([0.3, -0.7])
    eager = hessian(lambda p: p[0] * p[1] * c + (p[0] * c).tanh())([0.3, -0.7])
    assert np.allclose(through, eager, rtol=1e-12, atol=0.0)
    x = Value(2.0)
    out, _ = cube(x)
    out.backward(create_graph=True)  # backward's create_graph: the slope is a graph node
    assert isinstance(x.grad, Value) and x.grad.data == 12.0


def test_a_program_compiled_inside_a_grad_inside_a_grad_is_differentiated_at_both_levels():
    def outer(x):
        def inner(y):
            return compile(lambda z: x * y * z + y * y, 1.0)(2.0)[0]
        return grad(inner)(3.0)  # ∂/∂y (2xy + y²) = 2x + 2y

    assert value_and_grad(outer)(5.0) == (16.0, 2.0)
    assert grad(grad(lambda x: compile(lambda y: x * x * y, 1.0)(3.0)[0]))(1.5) == 6.0


def test_a_batched_program_inside_grad_gives_a_node_per_point():
    xs = np.array([1.0, 2.0, 3.0])
    program = compile(lambda a, y: a * y * y, 1.0, 1.0)
    assert value_and_grad(lambda a: program(a, xs)[0].sum())(2.0) == (28.0, 14.0)
    c = Value(1.5)
    closing = compile(lambda y: (c * y).sin(), 1.0)
    values, (grads,) = closing(xs)  # outside a grad: numbers, as always
    assert values.dtype == float and grads.dtype == float
    slope = grad(lambda w: sum(compile(lambda y: (w * y).sin(), 1.0)(xs)[0]))(1.5)
    assert slope == pytest.approx(sum(float(np.cos(1.5 * x) * x) for x in xs), rel=1e-12)


def test_a_free_value_given_to_a_program_makes_its_call_a_node_backward_walks_through():
    w = Value(3.0, label="w")
    program = compile(lambda y: w * y * y, 1.0)
    assert program(2.0) == (12.0, (12.0,))  # numbers: no graph outside a differentiation
    x = Value(2.0)
    out, (slope,) = program(x)
    out.backward()
    assert (out.data, x.grad, w.grad) == (12.0, 12.0, 4.0)  # w, closed over, is a parent too
    assert slope.data == 12.0 and [p.label for p in out.parents] == ["", "w"]


def test_a_program_called_while_another_is_traced_is_inlined_so_replay_follows_it():
    inner = compile(lambda y: y.sin() * y, 1.0)
    outer = compile(lambda x: inner(x)[0] * x + inner(x)[1][0], 1.0)

    def eager(x):
        return (x.sin() * x) * x + (x.cos() * x + x.sin())

    for point in (0.7, -1.3, 2.0):
        value, (slope,) = outer(point)
        expected = value_and_grad(eager)(point)
        assert value == pytest.approx(expected[0], rel=1e-12)
        assert slope == pytest.approx(expected[1], rel=1e-12)
    assert "sin" in outer.listing()  # inner's ops are outer's own equations


def test_aux_outputs_inside_grad_are_nodes_with_the_eager_slopes():
    program = compile(lambda x: (x * x, {"cube": x * x * x, "half": x * 0.5}), 1.0,
                      has_aux=True)
    assert grad(lambda x: program(x)[0][1]["cube"])(2.0) == 12.0
    assert grad(lambda x: program(x)[0][1]["half"] * x)(2.0) == 2.0
    assert program(3.0) == ((9.0, {"cube": 27.0, "half": 1.5}), (6.0,))


def test_a_guard_flip_inside_grad_retraces_and_strict_raises_naming_it():
    def f(y):
        return y * y if y > 0 else y * -3.0

    program = compile(f, 1.0)
    assert grad(lambda x: program(x)[0])(-2.0) == -3.0
    assert len(program.traces) == 2
    strict = compile(f, 1.0, strict=True)
    with pytest.raises(GuardError, match=r"y > 0\.0 was True when traced"):
        grad(lambda x: strict(x)[0])(-2.0)
    assert len(strict.traces) == 1


def test_past_the_trace_cap_a_call_inside_grad_is_f_itself_on_the_values():
    def f(y):
        return y * y if y.data > 0 else y * -3.0  # a read: a guard

    program = compile(f, 1.0, max_traces=1)
    with pytest.warns(RuntimeWarning, match=r"1 traces and the guard y\.data == 1\.0"):
        assert grad(lambda x: program(x)[0])(-2.0) == -3.0  # no trace fits: eager, exact
    assert grad(grad(lambda x: program(x)[0]))(-2.0) == 0.0
    assert grad(lambda x: program(x)[0])(1.0) == 2.0  # the trace still serves its point
    assert len(program.traces) == 1


def test_a_domain_error_inside_grad_is_eagers_own_and_changes_nothing():
    c = Value(2.0)
    program = compile(lambda y: (y - c).log(), 3.0)
    with pytest.raises(ValueError, match=r"log\(-1\.0\) is undefined"):
        grad(lambda x: program(x)[0])(1.0)
    assert (c.data, c.grad, len(program.traces)) == (2.0, 0.0, 1)
    assert grad(lambda x: program(x)[0])(4.0) == 0.5


def test_a_plain_number_result_read_out_of_a_traced_value_is_refused_naming_the_read():
    with pytest.raises(TypeError, match=r"returned a plain float .* after reading a traced "
                                        r"Value's number .*math\.sin"):
        compile(lambda x: math.sin(x), 1.0)
    assert compile(lambda x: 3.0, 1.0)(2.0) == (3.0, (0.0,))  # a constant: its slope is 0


def test_a_value_computed_before_f_is_read_at_replay_as_eager_reads_it():
    w = Value(1.5)
    twice = w * 2.0  # computed once, outside f: eager f reads its number, never recomputes it
    program = compile(lambda y: twice * y, 1.0)
    w.data = 10.0
    out, (slope,) = program(2.0)  # nodes hanging from twice, as eager's twice * y would
    assert (out.data, slope.data, out.parents[1:]) == (6.0, 3.0, (twice,))
    assert program.traces[0].tape.captured == [twice] and not program.traces[0].tape.eqns[:-1]


def test_nodes_made_under_enable_grad_inside_a_traced_f_are_replayed():
    c = Value(2.0)

    def f(y):
        with no_grad():
            with enable_grad():
                c2 = c * 3.0  # f's own node: recomputed from c at replay
        return c2 * y

    program = compile(f, 1.0)
    c.data = 5.0
    assert program(2.0) == (30.0, (15.0,))


def test_a_program_called_under_no_grad_inside_grad_gives_a_leaf_as_eager_does():
    program = compile(lambda y: y * y, 1.0)

    def f(x):
        with no_grad():
            cut = program(x)[0]
        return x * 2.0 + cut

    assert value_and_grad(f)(3.0) == (15.0, 2.0)


def _composed(seed, through_program):
    """(x, y) ↦ a random function of y and a (closing over x and a weight), with y = x·0.5 − 1
    passed in as an argument: through a program compiled inside the grad, or eagerly."""
    k = Value(0.7)

    def outer(x, a):
        f = _random_function(seed, [x, k, x * 0.3])
        y = x * 0.5 - 1.0
        if through_program:
            value, _ = compile(f)(y, a)
            return value * x + value
        value = f(y, a if isinstance(a, Value) else Value(a))
        return value * x + value
    return outer


@pytest.mark.filterwarnings("ignore:f. 8 traces:RuntimeWarning")
@given(seed=st.integers(0, 10**6), x=st.floats(-1.5, 1.5), a=st.floats(-1.5, 1.5))
def test_random_programs_inside_grad_give_eagers_numbers(seed, x, a):
    eager = value_and_grad(_composed(seed, False), (0, 1))(x, a)
    through = value_and_grad(_composed(seed, True), (0, 1))(x, a)
    assert through[0] == pytest.approx(eager[0], rel=1e-12, abs=1e-12)
    assert through[1] == pytest.approx(eager[1], rel=1e-9, abs=1e-12)


@pytest.mark.filterwarnings("ignore:f. 8 traces:RuntimeWarning")
@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), x=st.floats(-1.5, 1.5))
def test_random_programs_differentiated_twice_give_eagers_numbers(seed, x):
    second = grad(grad(lambda x_: _composed(seed, False)(x_, 0.4)))(x)
    through = grad(grad(lambda x_: _composed(seed, True)(x_, 0.4)))(x)
    assert through == pytest.approx(second, rel=1e-9, abs=1e-12)


def test_a_program_reading_a_node_of_an_outside_graph_returns_nodes_of_that_graph():
    x = Value(3.0)
    h = x * 2.0  # a graph under construction, closed over by f
    program = compile(lambda y: h * y)
    out, (slope,) = program(1.0)  # traced at this call: already a node, as eager's h * y
    total = x * 2.0 + out
    total.backward()
    assert (total.data, slope.data, x.grad) == (12.0, 6.0, 4.0)
    w = Value(3.0)  # a closed-over leaf alone (a model's weight): numbers, as always
    assert compile(lambda y: w * y)(1.0) == (3.0, (3.0,))


def test_bad_input_inside_grad_is_refused_by_name_and_changes_nothing():
    program = compile(lambda y, z: y * z, 1.0, 2.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        grad(lambda x: program(x)[0])(1.0)
    with pytest.raises(ValueError, match="z needs a finite number, got nan"):
        grad(lambda x: program(x, math.nan)[0])(1.0)
    with pytest.raises(ValueError, match=r"argument z has shape \(3,\), the others \(2,\)"):
        grad(lambda x: program(np.zeros(2), np.zeros(3))[0].sum() * x)(1.0)
    assert len(program.variants) == 1 and len(program.traces) == 1
    frozen = Value(4.0, requires_grad=False)  # a Value taking no gradient: its number
    assert program(frozen, 0.5) == (2.0, (0.5, 4.0))
