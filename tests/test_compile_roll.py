"""Loop rolling (compile.roll) tested on its output, and rolled replay against eager bit for
bit: chains with varying constants, bodies with fan-out, interrupted bodies, RNN-like bodies
reading a weight every iteration, guards, and chains too short to roll."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, compile, ops
from autograd_core.compile.codegen import GeneratedFloats
from autograd_core.compile.execute import FloatExecutor
from autograd_core.compile.roll import deepens, find_loops
from autograd_core.engine import grads_of


def _eager(f, point):
    leaves = [Value(x) for x in point]
    root = f(*leaves)
    return root.data, grads_of(root, leaves)


def _replays_as_eager(f, point, at):
    """f compiled at `point`, replayed at each point of `at`: eager's value and gradient
    exactly (==, not approximately), by the generated code and by the interpreter."""
    program = compile(f, *point)
    traced = program.traces[-1]
    for x in at:
        value, grads = _eager(f, x)
        got, got_grads = program(*x)
        assert (got, list(got_grads)) == (value, grads)
    tape = traced.tape
    for x in at:
        a, b = traced.floats.forward(list(x)), FloatExecutor(tape).forward(list(x))
        assert a[tape.out] == b[tape.out]
        assert traced.floats.backward(a) == FloatExecutor(tape).backward(b)
    return traced


def chain(n, a=1.0001, b=0.0001):
    def f(x):
        y = x
        for _ in range(n):
            y = y * a + b
        return y
    return f


def test_a_chain_rolls_into_one_loop_of_its_two_equations_with_its_numbers_as_tables():
    traced = _replays_as_eager(chain(50), [1.0], [[1.0], [-2.5]])
    (loop,) = traced.loops
    assert loop.body == 2 and loop.count >= 48 and traced.narrow
    kinds = sorted(r.kind for row in loop.reads for r in row)
    assert kinds == ["body", "body", "table", "table"]
    assert [r.lag for row in loop.reads for r in row if r.kind == "body"] in ([1, 0], [0, 1])


def test_a_chain_with_different_constants_each_step_replays_them_in_order():
    def f(x):
        y = x
        for i in range(40):
            y = y * (1.0 + i / 100) - math.sqrt(i)
        return y
    traced = _replays_as_eager(f, [0.5], [[0.5], [3.0]])
    assert len(traced.loops) == 1


def test_a_body_with_fan_out_adds_each_use_in_eagers_order():
    def f(x, w):
        h = x
        for _ in range(30):
            h = (h * h * 0.25 + h * w).tanh() + h  # h read three times, w every iteration
        return h
    traced = _replays_as_eager(f, [0.3, 0.7], [[0.3, 0.7], [-0.2, 1.1]])
    assert traced.loops and any(r.kind == "fixed" for row in traced.loops[0].reads
                                for r in row)


def test_an_interrupted_body_rolls_on_either_side_of_the_interruption():
    def f(x):
        y = x
        for i in range(60):
            y = y * 1.01 + 0.5
            if i == 25:
                y = y.sin()  # one iteration unlike the others
        return y
    traced = _replays_as_eager(f, [0.1], [[0.1], [0.9]])
    assert len(traced.loops) == 2


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_chains_too_short_to_roll_replay_as_straight_code(n):
    traced = _replays_as_eager(chain(n), [1.5], [[1.5], [-0.5]])
    assert traced.loops == []


def test_a_long_rnn_like_body_reading_its_weights_every_step_replays_exactly():
    def f(x, w, u):
        h, c = x, x * 0.0
        for i in range(100):
            c = c * u + (h * w).sigmoid()
            h = (c + 0.01 * i).tanh() * h
        return h + c
    traced = _replays_as_eager(f, [0.4, 0.6, 0.9], [[0.4, 0.6, 0.9], [-0.3, 1.2, 0.5]])
    assert traced.loops and traced.loops[0].count >= 90


def test_a_guard_inside_the_loop_is_checked_and_a_flip_retraces():
    def f(x):
        y = x
        for _ in range(20):
            y = y * 0.9 + 0.3
            if y > 1.0:  # a guard per iteration
                y = y - 0.5
        return y
    program = compile(f, 0.2)
    for x in (0.2, 0.25, 5.0, -3.0):
        value, grads = _eager(f, [x])
        assert program(x) == (value, tuple(grads))
    assert len(program.traces) >= 2


def test_a_rolled_region_is_a_loop_in_the_listing_and_in_the_generated_source():
    program = compile(chain(20), 1.0)
    listing = program.listing()
    assert "for i in 0 … " in listing and "rolled" in listing and "for i in " in \
        listing.split("backward")[1]
    source = program.listing(generated=True)
    assert source.count("\n") < 40 and "for " in source


def test_a_million_step_program_holds_columns_not_objects():
    traced = compile(chain(20_000), 1.0).traces[0]
    tape = traced.tape
    assert tape.n_eqns == 40_000 and len(traced.loops) == 1
    assert type(tape.columns.code).__name__ == "array"


def test_a_loop_that_only_sums_does_not_deepen_and_one_through_a_product_does():
    def sums(x):
        s = x
        for i in range(20):
            s = s + x * float(i)
        return s
    for f, deep in ((sums, False), (chain(20), True)):
        tape = compile(f, 1.0).traces[0].tape
        c = tape.columns
        (loop,) = find_loops(tape)
        through = [c.ops[c.code[k]] in (ops.ADD, ops.SUB)
                   for k in range(loop.start, loop.start + loop.body)]
        assert deepens(loop, through) is deep


def test_a_value_out_of_range_inside_a_loop_raises_eagers_error():
    def f(x):
        y = x
        for _ in range(10):
            y = (y * 0.5 + 1.0 - y * y * 0.01).log()
        return y
    program = compile(f, 3.0)
    assert program.traces[0].loops
    with pytest.raises(ValueError):
        _eager(f, [-30.0])
    with pytest.raises(ValueError, match="log"):
        program(-30.0)


def test_an_overflow_inside_a_loop_is_found_though_the_output_is_finite():
    def f(x):
        y = x
        for _ in range(12):
            y = (y * 1e30).tanh() * 2.0 + y * 0.0
        return y
    program = compile(f, 1.0)
    assert program(1.0) == (lambda r: (r[0], tuple(r[1])))(_eager(f, [1.0]))
    with pytest.raises((OverflowError, ArithmeticError)):
        _eager(f, [1e290])
    with pytest.raises((OverflowError, ArithmeticError)):
        program(1e290)


OPS = ["add", "sub", "mul", "tanh", "sin", "relu_like", "square"]


@st.composite
def bodies(draw):
    """A random body over the values carried from the previous iteration (two of them), a
    weight read every iteration, and a constant of its own per iteration."""
    size = draw(st.integers(1, 5))
    steps = []
    for j in range(size):
        op = draw(st.sampled_from(OPS))
        a = draw(st.integers(0, 3 + j))  # 0, 1: carried; 2: weight; 3: constant; 4+: body
        b = draw(st.integers(0, 3 + j))
        steps.append((op, a, b))
    return steps, draw(st.integers(1, 12)), draw(st.floats(-0.9, 0.9)), draw(st.floats(0.1, 0.9))


def _body_function(steps, count):
    def f(x, w):
        h1, h2 = x, x * 0.5
        for i in range(count):
            vals = [h1, h2, w, 0.1 + 0.01 * i]
            for op, a, b in steps:
                u, v = vals[a], vals[b]
                if not isinstance(u, Value):
                    u, v = v, u
                if not isinstance(u, Value):
                    u = w * u
                if op == "add":
                    r = u + v
                elif op == "sub":
                    r = u - v
                elif op == "mul":
                    r = u * v
                elif op == "tanh":
                    r = (u * 0.5).tanh()
                elif op == "sin":
                    r = u.sin()
                elif op == "relu_like":
                    r = (u - 0.1).relu() + u * 0.01
                else:
                    r = u * u * 0.5
                vals.append(r)
            h1, h2 = vals[-1], vals[-2] if len(vals) > 5 else h1
        return h1 + h2 * 0.5
    return f


@given(bodies())
def test_random_bodies_repeated_replay_as_eager_bit_for_bit(case):
    steps, count, x, w = case
    f = _body_function(steps, count)
    try:
        want = _eager(f, [x, w])
    except (ArithmeticError, ValueError):
        return
    if not all(map(math.isfinite, [want[0], *want[1]])):
        return
    program = compile(f, x, w)
    got, grads = program(x, w)
    assert (got, list(grads)) == want
    traced = program.traces[-1]
    tape = traced.tape
    # the generated code with loops, forced, equals the interpreter exactly
    generated = GeneratedFloats(tape, find_loops(tape, min_count=2))
    a, b = generated.forward([x, w]), FloatExecutor(tape).forward([x, w])
    assert a[tape.out] == b[tape.out] == want[0]
    assert generated.backward(a)[:2] == FloatExecutor(tape).backward(b)[:2] == want[1]


def test_a_batch_of_long_chains_replays_point_by_point_through_the_loop():
    program = compile(chain(200), 1.0)
    xs = np.array([0.5, 1.0, -2.0])
    values, (grads,) = program(xs)
    for x, v, g in zip(xs.tolist(), values.tolist(), grads.tolist()):
        assert (v, [g]) == _eager(chain(200), [x])
