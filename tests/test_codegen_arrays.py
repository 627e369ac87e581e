"""Generated numpy code for wide tapes: the numpy executor's schedule written out as
whole-array statements equals the interpreter bit for bit and eager to rounding, on random
wide DAGs and layers, a point and a batch; its source holds none of the user's text."""

import numpy as np
import pytest

from autograd_core import Value, compile, value_and_grad
from autograd_core.compile.codegen import MAX_KERNELS, GeneratedArrays
from autograd_core.compile.execute import ArrayExecutor

RTOL = 1e-12


def _wide_function(seed, n_in, width, depth):
    """Layers of `width` nodes, each a random +, −, ×, relu, tanh or exp of two nodes of the
    layer before (or a constant), summed at the end: a wide graph with sums, fan-out and
    constants, and guards where a relu's input is compared (x > 0 branches)."""
    def f(*xs):
        rng = np.random.default_rng(seed)
        layer = list(xs)
        for _ in range(depth):
            nxt = []
            for _ in range(width):
                a, b = (layer[int(i)] for i in rng.integers(len(layer), size=2))
                kind = int(rng.integers(7))
                nxt.append(a + b if kind == 0 else a * b if kind == 1 else a - b * 0.5
                           if kind == 2 else (a * 0.3).relu() if kind == 3 else
                           (a * 0.5).tanh() if kind == 4 else (b * 0.2).exp() if kind == 5
                           else sum((a * w for w in rng.uniform(-1, 1, size=4)), b))
            layer = nxt
        total = sum(layer, Value(0.0))
        return total if total < 1e6 else total * 1e-6  # a guard on the result
    return f


@pytest.mark.parametrize("seed", range(6))
def test_generated_numpy_equals_the_interpreter_bit_for_bit_and_eager_on_random_wide_dags(seed):
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(2, 5))
    f = _wide_function(seed, n_in, width=40, depth=4)
    program = compile(f, *rng.uniform(-1, 1, size=n_in).tolist())
    traced = program.traces[0]
    assert not traced.narrow and isinstance(traced.arrays, GeneratedArrays)
    interpreter = ArrayExecutor(traced.tape, traced.schedule)
    points = rng.uniform(-1, 1, size=(n_in, 5))
    for x in (points[:, 0], points):  # one point (1-d rows), then a batch (a column each)
        v, saved = traced.arrays.forward(x)
        w, kept = interpreter.forward(x)
        assert np.array_equal(v, w)
        assert np.array_equal(traced.arrays.backward(v, saved), interpreter.backward(w, kept))
    values, grads = program(*points)
    for j in range(points.shape[1]):
        value, eager = value_and_grad(f, tuple(range(n_in)))(*points[:, j].tolist())
        scale = max(1.0, abs(value), *map(abs, eager))
        assert abs(values[j] - value) <= RTOL * scale
        assert all(abs(g[j] - e) <= RTOL * scale for g, e in zip(grads, eager))
        one_value, one_grads = program(*points[:, j].tolist())
        assert abs(one_value - value) <= RTOL * scale
        assert all(abs(g - e) <= RTOL * scale for g, e in zip(one_grads, eager))


def test_a_layer_of_neurons_is_generated_as_one_grid_and_equals_eager():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))

    def loss(*ws):
        hidden = [sum((ws[4 * j + i] * x for i, x in enumerate(row)), ws[4 * j + 3]).relu()
                  for row in X.tolist() for j in range(5)]
        return sum(((1.0 - h).relu() for h in hidden), Value(0.0))

    theta = rng.uniform(-1, 1, size=20).tolist()
    program = compile(loss, *theta)
    source = program.listing(generated=True)
    assert "def forward(x):" in source and "def backward(v, saved):" in source
    value, grads = program(*theta)
    eager_value, eager_grads = value_and_grad(loss, tuple(range(20)))(*theta)
    assert value == eager_value  # eager's products, added in eager's order
    assert list(grads) == pytest.approx(list(eager_grads), rel=1e-12, abs=1e-15)


def test_generated_numpy_source_holds_no_user_text():
    def f(*xs):
        terms = []
        for i, x in enumerate(xs):
            t = (x * float(i)).tanh()
            t.label = '"); import os; os.system("echo") #'
            terms.append(t)
        return sum(terms, Value(0.0))

    program = compile(f, *[0.1] * 64)
    source = program.listing(generated=True)
    assert "import" not in source and "os." not in source and "echo" not in source
    assert isinstance(program.traces[0].arrays, GeneratedArrays)


def test_a_schedule_of_too_many_kernels_runs_in_the_interpreter():
    def deep(x, y):  # one add and one product per level, on both branches: many small groups
        for _ in range(MAX_KERNELS // 2 + 1):
            x, y = x * y.tanh(), y + x * 0.5
        return x + y

    traced = compile(deep, 0.1, 0.2).traces[0]
    traced.narrow = False
    assert sum(len(step.kernels) for step in traced.plan.steps) > MAX_KERNELS
    assert type(traced.arrays) is ArrayExecutor


# --- random MLPs: the mechanism, not one graph -----------------------------------------------

ACTIVATIONS = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
               "linear": lambda v: v}


def _mlp(seed, n_in, sizes, activation, n_points):
    """micrograd's MLP loss over fixed points, its weights (per neuron: weights, then bias) as
    the arguments: hinge + L2, each neuron's act = b + Σ wᵢxᵢ added left to right."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_points, n_in)).tolist()
    y = rng.choice([-1.0, 1.0], size=n_points).tolist()
    act = ACTIVATIONS[activation]
    shapes = list(zip([n_in, *sizes[:-1]], sizes))

    def loss(*ws):
        layers, at = [], 0
        for n_prev, n_out in shapes:
            layers.append([(ws[at + j * (n_prev + 1):][:n_prev], ws[at + j * (n_prev + 1) + n_prev])
                           for j in range(n_out)])
            at += n_out * (n_prev + 1)
        scores = []
        for row in X:
            x = row
            for depth, layer in enumerate(layers):
                acts = [sum((w * xi for w, xi in zip(wj, x)), b) for wj, b in layer]
                x = acts if depth == len(layers) - 1 else [act(a) for a in acts]
            scores.append(x[0])
        losses = [(1.0 - yi * s).relu() for yi, s in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in ws)

    n_params = sum(n_out * (n_prev + 1) for n_prev, n_out in shapes)
    return loss, rng.uniform(-1.0, 1.0, size=n_params).tolist()


MLPS = [(0, 2, [16, 16, 1], "relu", 40), (1, 3, [5, 1], "tanh", 7), (2, 1, [8, 3, 1], "relu", 1),
        (3, 4, [1], "linear", 12), (4, 2, [6, 6, 1], "sigmoid", 9), (5, 5, [3, 7, 1], "relu", 3)]


@pytest.mark.parametrize("seed, n_in, sizes, activation, n_points", MLPS)
def test_random_mlps_replay_eager_values_bit_for_bit_and_gradients_to_rounding(
        seed, n_in, sizes, activation, n_points):
    loss, theta = _mlp(seed, n_in, sizes, activation, n_points)
    program = compile(loss, *theta)
    traced = program.traces[0]
    traced.narrow = False  # the numpy executor, even where a point's float loop would run
    assert isinstance(traced.arrays, GeneratedArrays)
    value, grads = program(*theta)
    want, eager = value_and_grad(loss, tuple(range(len(theta))))(*theta)
    # The same products added in the same order: the same number, where numpy's activation
    # is math's (relu and a linear output are exact; tanh and exp may differ in the last bit).
    if activation in ("relu", "linear"):
        assert value == want
    else:
        assert value == pytest.approx(want, rel=RTOL)
    assert list(grads) == pytest.approx(list(eager), rel=RTOL, abs=1e-15)
    rng = np.random.default_rng(seed)
    for k in (1, 3):  # a batch of one point, and of three, a column each
        thetas = np.array(theta)[:, None] + rng.normal(scale=0.1, size=(len(theta), k))
        values, batch = program(*thetas)
        for j in range(k):
            want, eager = value_and_grad(loss, tuple(range(len(theta))))(*thetas[:, j].tolist())
            if activation in ("relu", "linear"):
                assert values[j] == want
            assert values[j] == pytest.approx(want, rel=RTOL)
            assert [g[j] for g in batch] == pytest.approx(list(eager), rel=RTOL, abs=1e-15)


# reassociate=True: sums added in another order (BLAS). Each weighted sum of n terms can move by
# about n·ε·Σ|wᵢxᵢ|; on these nets a few units in the last place (≤ 1e-15 relative).
REASSOCIATED = 1e-12


@pytest.mark.parametrize("seed, n_in, sizes, activation, n_points", MLPS)
def test_reassociate_runs_layers_as_matrix_products_within_rounding_of_eager(
        seed, n_in, sizes, activation, n_points):
    loss, theta = _mlp(seed, n_in, sizes, activation, n_points)
    program = compile(loss, *theta, reassociate=True)
    program.traces[0].narrow = False  # the numpy executor, even for one point
    source = program.listing(generated=True)
    assert "matmul(" in source  # the grids' sums are matrix products now
    value, grads = program(*theta)
    want, eager = value_and_grad(loss, tuple(range(len(theta))))(*theta)
    assert value == pytest.approx(want, rel=REASSOCIATED, abs=REASSOCIATED)
    assert list(grads) == pytest.approx(list(eager), rel=REASSOCIATED, abs=REASSOCIATED)
    thetas = np.array(theta)[:, None] + np.random.default_rng(seed).normal(scale=0.1,
                                                                         size=(len(theta), 2))
    values, batch = program(*thetas)
    for j in range(2):
        want, eager = value_and_grad(loss, tuple(range(len(theta))))(*thetas[:, j].tolist())
        assert values[j] == pytest.approx(want, rel=REASSOCIATED, abs=REASSOCIATED)
        assert [g[j] for g in batch] == pytest.approx(list(eager), rel=REASSOCIATED,
                                                      abs=REASSOCIATED)


@pytest.mark.parametrize("seed", range(4))
def test_reassociate_on_random_wide_dags_stays_within_rounding_and_off_is_the_interpreter(seed):
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(2, 5))
    f = _wide_function(seed, n_in, width=40, depth=4)
    x0 = rng.uniform(-1, 1, size=n_in).tolist()
    fast, exact = compile(f, *x0, reassociate=True), compile(f, *x0)
    points = rng.uniform(-1, 1, size=(n_in, 4))
    for x in (points[:, 0].tolist(), list(points)):
        (v_fast, g_fast), (v_exact, g_exact) = fast(*x), exact(*x)
        scale = max(1.0, float(np.max(np.abs(v_exact))))
        assert np.allclose(v_fast, v_exact, rtol=REASSOCIATED, atol=REASSOCIATED * scale)
        for a, b in zip(g_fast, g_exact):
            assert np.allclose(a, b, rtol=REASSOCIATED, atol=REASSOCIATED * scale)
    traced = exact.traces[0]
    interpreter = ArrayExecutor(traced.tape, traced.schedule)
    v, saved = traced.arrays.forward(points)
    w, kept = interpreter.forward(points)
    assert np.array_equal(v, w)
    assert np.array_equal(traced.arrays.backward(v, saved), interpreter.backward(w, kept))


def test_reassociate_must_be_a_bool():
    with pytest.raises(TypeError, match="reassociate must be True or False, got 'yes'"):
        compile(lambda x: x * 2.0, reassociate="yes")


def test_a_batch_with_more_than_one_axis_runs_as_one_and_keeps_its_shape():
    loss, theta = _mlp(7, 2, [4, 1], "relu", 5)
    program = compile(loss, *theta)
    thetas = np.array(theta)[:, None, None] + np.zeros((1, 2, 3))
    values, grads = program(*thetas)
    assert values.shape == (2, 3) and grads[0].shape == (2, 3)
    want, eager = value_and_grad(loss, tuple(range(len(theta))))(*theta)
    assert (values == want).all()
    assert [g[1, 2] for g in grads] == pytest.approx(list(eager), rel=RTOL, abs=1e-15)
