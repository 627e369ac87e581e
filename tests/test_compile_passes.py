"""Each compile pass tested on its output: the tape a trace records, fuse_sums, group_by_level,
plan_blocks, products_to_matmul, the executor choice — and the two executors against eager."""

import numpy as np
import pytest

from autograd_core import Value, compile, ops
from autograd_core.compile.matmul import Grid, products_to_matmul
from autograd_core.compile.passes import Term, fuse_sums, group_by_level, narrow, plan_blocks
from autograd_core.compile.roll import find_loops
from autograd_core.compile.tape import Eqn
from autograd_core.engine import grads_of

RTOL = 1e-12


def _tape(f, *args):
    return compile(f, *args).traces[0].tape


def test_the_tape_of_xplusy_times_z_is_two_equations_over_named_slots():
    tape = _tape(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    assert tape.n_in == 3 and list(tape.constants) == [] and tape.captured == []
    assert tape.eqns == [Eqn(ops.ADD, (0, 1), 3, True), Eqn(ops.MUL, (3, 2), 4, True)]
    assert tape.out == 4 and tape.names[:3] == ["x", "y", "z"]


def test_a_number_in_the_graph_is_a_constant_slot_and_takes_no_gradient():
    tape = _tape(lambda x: x * 3.0 + 1.0, 2.0)
    assert list(tape.constants) == [3.0, 1.0]
    assert [tape.takes_gradient(s) for s in range(tape.n_slots)] == [True, False, False, True,
                                                                      True]


def test_fuse_sums_makes_one_sum_of_a_chain_and_its_single_use_products():
    tape = _tape(lambda a, b, c, d, e: a * b + c * d - e, *[1.0] * 5)
    sums = fuse_sums(tape)
    ab, cd, first_add, root = (e.out for e in tape.eqns)
    k = tape.eqns.index(next(e for e in tape.eqns if e.out == root))
    assert sums.terms[k] == [Term(ab, 1.0), Term(cd, 1.0), Term(4, -1.0)]
    assert sums.made[k] == (ops.MUL, ops.MUL, None)  # the products are made inside the sum
    assert sums.absorbed == {0, 1, 2}  # a·b, c·d and the first + live inside it


def test_fuse_sums_reads_a_term_used_twice_from_its_slot():
    def f(a, b):
        p = a * b
        return (p + a) * p
    sums = fuse_sums(_tape(f, 1.0, 2.0))
    assert sums.made[1] == (None, None) and sums.absorbed == set()


def test_group_by_level_puts_independent_same_op_equations_in_one_group():
    tape = _tape(lambda x, y: x.tanh() * y.tanh(), 0.1, 0.2)
    levels = group_by_level(tape, fuse_sums(tape))
    assert levels.level == [1, 1, 2] and levels.depth == 2
    groups = levels.groups([e.live for e in tape.eqns])
    assert list(groups.values()) == [[0, 1], [2]]


def test_plan_blocks_gives_a_sum_one_block_per_op_making_its_terms():
    tape = _tape(lambda a, b, c, d, e: a * b + c * d - e, *[1.0] * 5)
    sums = fuse_sums(tape)
    schedule = plan_blocks(tape, sums, group_by_level(tape, sums))
    (group,) = schedule.groups
    assert group.rows == 3 and [b.op for b in group.blocks] == [ops.MUL, None]
    product, read = group.blocks
    assert product.rows == slice(0, 2) and [r.tolist() for r in product.reads] == [[[0], [2]],
                                                                                  [[1], [3]]]
    assert read.reads[0].tolist() == [[4]] and read.signs.tolist() == [[-1.0]]


def _layer(n_in, n_out, n_points):
    def f(*a):
        W = [a[i * n_out:(i + 1) * n_out] for i in range(n_in)]
        X = [a[n_in * n_out + p * n_in:][:n_in] for p in range(n_points)]
        total = a[0] * 0.0
        for p in range(n_points):
            for j in range(n_out):
                z = W[0][j] * X[p][0]
                for i in range(1, n_in):
                    z = z + W[i][j] * X[p][i]
                total = total + z * z
        return total
    return f, n_in * n_out + n_points * n_in


def test_products_to_matmul_reads_a_layer_as_one_grid_of_neurons_by_points():
    f, n = _layer(3, 4, 5)
    tape = _tape(f, *np.linspace(-1, 1, n).tolist())
    sums = fuse_sums(tape)
    planned = plan_blocks(tape, sums, group_by_level(tape, sums))
    assert not any(b.grid for g in planned.groups for b in g.blocks)  # the pass adds them
    grids = {b.grid: b for g in products_to_matmul(planned, tape.n_leaves).groups
             for b in g.blocks if b.grid}
    # the layer's 60 products, and the loss's z·z (a 1 × 1 grid: the sum of squares); the
    # layer traced point by point is laid out neuron by neuron, its 5 points the long axis last
    assert set(grids) == {Grid(outer=0, shape=(4, 5)), Grid(outer=1, shape=(1, 1))}
    weights, inputs = grids[Grid(0, (4, 5))].reads  # each distinct column once
    assert weights.shape == (3, 4) and inputs.shape == (3, 5)


def test_products_to_matmul_lays_a_layer_out_neuron_by_neuron_and_its_relu_follows():
    # 3 inputs, 4 neurons, 10 points, traced point by point, then a relu of every output
    n_in, n_out, n_points = 3, 4, 10

    def f(*a):
        W = [a[i * n_out:(i + 1) * n_out] for i in range(n_in)]
        X = [a[n_in * n_out + p * n_in:][:n_in] for p in range(n_points)]
        acts = [sum((W[i][j] * X[p][i] for i in range(n_in)), a[j]).relu()
                for p in range(n_points) for j in range(n_out)]
        return sum((h * h for h in acts), a[0])

    tape = _tape(f, *np.linspace(-1, 1, n_in * n_out + n_points * n_in).tolist())
    sums = fuse_sums(tape)
    schedule = products_to_matmul(plan_blocks(tape, sums, group_by_level(tape, sums)),
                                  tape.n_leaves)
    layer = next(g for g in schedule.groups if len(g.eqns) == n_out * n_points)
    assert [b.grid for b in layer.blocks if b.grid] == [Grid(outer=0, shape=(4, 10))]  # the
    # 10 points, the longer axis, last
    relu = next(g for g in schedule.groups if g.rows is None and g.blocks[0].op is ops.RELU)
    made = [tape.n_leaves + k for k in layer.eqns]
    assert relu.blocks[0].reads[0].tolist() == made  # read in the layer's order: one slice
    x = np.linspace(-1, 1, 42).tolist()
    assert compile(f, *x)(*x)[0] == f(*map(Value, x)).data  # orders change no value


def test_products_to_matmul_leaves_products_that_are_no_grid_alone():
    # two sums of the same products: the pair (a, b) comes twice, so no grid holds them
    tape = _tape(lambda a, b, c, d: (a * b + c * d).tanh() + (a * b + c * d).exp(), *[0.5] * 4)
    sums = fuse_sums(tape)
    planned = plan_blocks(tape, sums, group_by_level(tape, sums))
    assert [len(g.eqns) for g in planned.groups if g.rows][0] == 2
    assert not any(b.grid for g in products_to_matmul(planned, tape.n_leaves).groups
                   for b in g.blocks)


def test_narrow_is_chosen_by_equations_per_level_not_by_graph_depth():
    ws = np.random.default_rng(3).normal(size=300).tolist()

    def dot(*xs):  # 600 equations, 300 levels deep as a graph: one sum, one level
        return sum((x * w for x, w in zip(xs, ws)), xs[0] * 0.0)

    def chain(x):  # 600 equations on 600 levels
        for w in ws:
            x = x * w + 1.0
        return x

    for f, args, expected in ((dot, ws, False), (chain, [1.0], True)):
        tape = _tape(f, *args)
        assert narrow(tape, group_by_level(tape, fuse_sums(tape))) is expected


def _random_function(rng, n_in, size):
    unary = [ops.TANH, ops.RELU, ops.EXP, ops.SIGMOID]

    def f(*xs):
        nodes = list(xs)
        for _ in range(size):
            a, b = (nodes[int(rng_i)] for rng_i in rng.integers(len(nodes), size=2))
            kind = rng.integers(4)
            node = a + b if kind == 0 else a * b if kind == 1 else a - b * 0.5 if kind == 2 \
                else unary[int(rng.integers(len(unary)))](a * 0.3)
            nodes.append(node)
        return sum(nodes[n_in:], nodes[0] * 0.0)
    return f


@pytest.mark.parametrize("seed", range(12))
def test_the_float_loop_and_numpy_executors_equal_eager_backward_on_random_dags(seed):
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 4))
    f = _random_function(np.random.default_rng(seed + 100), n_in, 20)
    point = rng.uniform(-1, 1, size=n_in).tolist()
    traced = compile(f, *point).traces[0]
    g = _random_function(np.random.default_rng(seed + 100), n_in, 20)
    leaves = [Value(x) for x in point]
    root = g(*leaves)
    eager = grads_of(root, leaves)
    vals = traced.floats.forward(point)
    assert vals[traced.tape.out] == root.data
    assert traced.floats.backward(vals)[:n_in] == eager  # the same chain rule, step for step
    v, saved = traced.arrays.forward(np.array(point))
    G = traced.arrays.backward(v, saved)
    assert v[traced.arrays.at(traced.tape.out)] == pytest.approx(root.data, rel=RTOL)
    assert G[:n_in].tolist() == pytest.approx(eager, rel=1e-10, abs=1e-12)


def test_narrow_and_wide_executors_agree_on_one_point():
    def f(x, y):
        return sum((x * i + y).relu() * (y - i).tanh() for i in range(40))

    program = compile(f, 0.3, -0.7)
    trace = program.traces[0]
    vals = trace.floats.forward([0.9, 0.2])
    grads = trace.floats.backward(vals)
    v, saved = trace.arrays.forward(np.array([0.9, 0.2]))
    G = trace.arrays.backward(v, saved)
    assert v[trace.arrays.at(trace.tape.out)] == pytest.approx(vals[trace.tape.out], rel=RTOL)
    assert G[:2] == pytest.approx(grads[:2], rel=RTOL)


@pytest.mark.parametrize("seed", range(8))
def test_generated_code_equals_the_interpreter_and_eager_bit_for_bit(seed):
    from autograd_core.compile.codegen import GeneratedFloats
    from autograd_core.compile.execute import FloatExecutor

    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 4))
    f = _random_function(np.random.default_rng(seed + 100), n_in, 30)
    tape = compile(f, *rng.uniform(-1, 1, size=n_in).tolist()).traces[0].tape
    generated, interpreted = GeneratedFloats(tape, find_loops(tape)), FloatExecutor(tape)
    for point in rng.uniform(-1, 1, size=(4, n_in)).tolist():
        vals, every = generated.forward(point), interpreted.forward(point)
        assert vals.finite == every.finite and vals[tape.out] == every[tape.out]
        assert generated.backward(vals) == interpreted.backward(every)
        leaves = [Value(x) for x in point]
        root = _random_function(np.random.default_rng(seed + 100), n_in, 30)(*leaves)
        assert (vals[tape.out], generated.backward(vals)[:n_in]) == (root.data,
                                                                     grads_of(root, leaves))


def test_generated_source_holds_no_user_text():
    def f(x):
        y = x * 2.0
        y.label = '"); import os; os.system("echo") #'
        return y.tanh()

    program = compile(f, 1.0)
    source = program.listing(generated=True)
    assert "import" not in source and "os" not in source and "echo" not in source
    assert program(0.5) == (np.tanh(1.0).item(), (2.0 * (1.0 - np.tanh(1.0).item() ** 2),))
