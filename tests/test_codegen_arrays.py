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
