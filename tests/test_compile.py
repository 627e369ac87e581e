"""Compiled programs: every op of the table replays eager values and gradients on random DAGs,
guards retrace where a branch flips (the ReverseDiff case), the listing of (x+y)z, batches,
bad input named like eager's, and compiled training matching eager training.
"""

import dataclasses
import math
import zlib

import numpy as np
import pytest

from autograd_core import Value, compile, ops, value_and_grad

RTOL = 1e-12


def _recipe(op, rng):
    """A random DAG as steps over argument slots: `op` applied to the arguments (kept in its
    test range) and to constants, mixed with +, −, × over earlier nodes, reused freely."""
    n_in = op.arity + 1
    steps = []
    pool = list(range(n_in))
    for _ in range(8):
        if rng.random() < 0.5:
            args = []
            for i in range(op.arity):
                constant = i in op.constant or rng.random() < 0.25
                args.append(("c", float(rng.uniform(*op.test_range[i]))) if constant
                            else ("v", i))
            steps.append((op, args))
        else:
            mix = [ops.ADD, ops.SUB, ops.MUL][int(rng.integers(3))]
            steps.append((mix, [("v", int(rng.choice(pool))), ("v", int(rng.choice(pool)))]))
        pool.append(n_in + len(steps) - 1)
    return n_in, steps


def _function(steps):
    def f(*xs):
        nodes = list(xs)
        for op, args in steps:
            nodes.append(op(*[a if kind == "c" else nodes[a] for kind, a in args]))
        total = nodes[-1]
        for node in nodes[len(xs):-1]:  # every node reaches the root: shared uses add up
            total = total + node * 0.5
        return total
    return f


def _point(op, rng, n_in, kink):
    """Arguments in op's test range; at a kink, the first input sits on it (0, or a tie)."""
    xs = [float(rng.uniform(*op.test_range[min(i, op.arity - 1)])) for i in range(n_in)]
    if kink and op.kink is not None:
        lo, hi = op.test_range[0]
        if lo <= 0.0 <= hi and op.kink(*([0.0] + xs[1:op.arity])) == 0.0:
            xs[0] = 0.0
        elif op.arity > 1 and op.kink(*([xs[1]] + xs[1:op.arity])) == 0.0:
            xs[0] = xs[1]
    return xs


def _close(a, b, scale):
    assert abs(a - b) <= RTOL * scale, (a, b)


@pytest.mark.parametrize("vectorised", [True, False], ids=["vectorised", "derived"])
@pytest.mark.parametrize("op", ops.OPS, ids=lambda op: op.name)
def test_every_op_replays_random_dags_like_eager(op, vectorised):
    # "derived": no array forward, and rules that refuse arrays (as a user's rule written with
    # `if` does), so the replay runs both element by element
    record = op if vectorised else dataclasses.replace(
        op, array=None, partials=tuple(r if r is None or type(r) is float else
                                       (lambda *a, r=r: float(r(*a))) for r in op.partials))
    rng = np.random.default_rng(zlib.crc32(op.name.encode()))  # the same DAGs in every run
    for _ in range(4):
        n_in, steps = _recipe(record, rng)
        f = _function(steps)
        program = compile(f, *_point(op, rng, n_in, kink=False))
        points = [_point(op, rng, n_in, kink=k) for k in (False, False, True, True)]
        eager = [value_and_grad(f, tuple(range(n_in)))(*p) for p in points]
        batch = [np.array(col) for col in zip(*points)]
        batch_value, batch_grads = program(*batch)  # a narrow graph: point by point
        wide = compile(f, *_point(op, rng, n_in, kink=False))
        wide.traces[0].narrow = False  # the numpy executor, by (level, recipe), for every size
        wide_value, wide_grads = wide(*batch)
        for j, (p, (value, grads)) in enumerate(zip(points, eager)):
            scale = max(1.0, abs(value), *map(abs, grads))
            one_value, one_grads = program(*p)  # one point: generated float code
            _close(one_value, value, scale)
            _close(batch_value[j], value, scale)
            _close(wide_value[j], value, scale)
            for g, one, b, w in zip(grads, one_grads, batch_grads, wide_grads):
                _close(one, g, scale)
                _close(b[j], g, scale)
                _close(w[j], g, scale)


def test_slides_xplusy_times_z_listing_word_for_word():
    def f(x, y, z):
        q = x + y
        q.label = "q"
        return q * z

    program = compile(f, -2.0, 5.0, -4.0)
    assert program(-2.0, 5.0, -4.0) == (-12.0, (-4.0, -4.0, 3.0))
    assert program.listing() == "\n".join([
        "forward",
        "  q = x + y",
        "  f = q * z",
        "backward",
        "  df/dq = z",
        "  df/dz = q",
        "  df/dx = df/dq",
        "  df/dy = df/dq"])


def test_batched_evaluation_equals_a_loop_of_points():
    @compile
    def f(x, y):
        return (x * y).sigmoid() + x.max(y) * 2.0

    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    value, (gx, gy) = f(xs, ys)
    assert value.shape == gx.shape == (3, 5)
    for i in range(3):
        for j in range(5):
            v, (a, b) = f(float(xs[i, j]), float(ys[i, j]))
            assert (value[i, j], gx[i, j], gy[i, j]) == pytest.approx((v, a, b), rel=RTOL)


def test_wrong_count_and_shapes_and_non_finite_inputs_are_refused_by_name():
    program = compile(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        program(1.0)
    with pytest.raises(ValueError, match=r"argument y has shape \(3,\), the others \(2,\)"):
        program(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="x needs a finite number, got nan"):
        program(math.nan, 1.0)
    with pytest.raises(ValueError, match="y needs finite numbers, got inf at index 1"):
        program(np.zeros(2), np.array([0.0, math.inf]))
    out, grads = program(Value(1.0), 2.0)  # a free Value: the call is a node of its graph
    assert isinstance(out, Value) and out.data == 2.0 and [g.data for g in grads] == [2.0, 1.0]


def test_an_op_outside_its_domain_names_op_value_and_batch_index():
    program = compile(lambda x: x.log() * 2.0, 1.0)
    xs = np.linspace(1.0, 2.0, 50)
    xs[37] = -0.5
    with pytest.raises(ValueError, match=r"log\(-0\.5\) is undefined: log x needs x > 0 "
                                         r"\(batch index 37\)"):
        program(xs)
    with pytest.raises(OverflowError, match="overflows"):
        compile(lambda x: x * x, 1.0)(1e200)
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0\.0\)"):
        compile(lambda x: x.sqrt(), 1.0)(0.0)


def test_aux_outputs_come_back_as_numbers_in_their_places():
    program = compile(lambda x: (x * x, [x + 1.0, (x * 3.0,)]), 2.0, has_aux=True)
    (value, aux), grads = program(3.0)
    assert (value, aux, grads) == (9.0, [4.0, (9.0,)], (6.0,))


def test_batched_clamp_on_a_single_point_and_with_crossed_bounds():
    program = compile(lambda x, lo, hi: x.clamp(lo, hi), 0.0, -1.0, 1.0)
    value, grads = program(np.array([0.5, 2.0, -2.0]), np.array([1.0, 1.0, -1.0]),
                           np.array([1.0, 1.0, 1.0]))
    assert list(value) == [1.0, 1.0, -1.0]  # lo = hi = 1 pins x there, as eager does
    assert list(value) == [Value(x).clamp(lo, hi).data
                           for x, lo, hi in [(0.5, 1.0, 1.0), (2.0, 1.0, 1.0), (-2.0, -1.0, 1.0)]]
    with pytest.raises(ValueError, match=r"clamp\(0.0, 2.0, -2.0\) is undefined"):
        program(np.array([0.0, 0.0]), np.array([-1.0, 2.0]), np.array([1.0, -2.0]))


def _layer_loss(build, signs, xw, between=False):
    """Σ over points p and neurons j of (b_j ± Σ_i w_ij·x_pi)², plus Σθ²: a dense layer whose
    products are made in the order `build` lists the (p, j) pairs, as w·x (or x·w); with
    `between`, a term that is not a product comes between the first two products."""
    n_in, n_out, n_points = 3, 4, 5

    def f(*args):
        W = [args[i * n_out:(i + 1) * n_out] for i in range(n_in)]
        b = args[n_in * n_out:n_in * n_out + n_out]
        X = [args[n_in * n_out + n_out + p * n_in:][:n_in] for p in range(n_points)]
        total = sum(t * t for t in args[:n_in * n_out + n_out])  # θ·θ: both inputs alike
        for p, j in build(n_points, n_out):
            z = b[j]
            for i in range(n_in):
                term = X[p][i] * W[i][j] if xw else W[i][j] * X[p][i]
                z = z - term if signs and i % 2 else z + term
                if between and i == 0:
                    z = z + X[p][1].tanh()
            total = total + z * z
        return total
    return f, n_in * n_out + n_out + n_points * n_in


@pytest.mark.parametrize("xw", [False, True], ids=["w*x", "x*w"])
@pytest.mark.parametrize("signs", [False, True], ids=["added", "subtracted"])
@pytest.mark.parametrize("build", [
    lambda P, J: [(p, j) for p in range(P) for j in range(J)],
    lambda P, J: [(p, j) for j in range(J) for p in range(P)],
    lambda P, J: sorted(((p, j) for p in range(P) for j in range(J)),
                        key=lambda pj: (pj[0] * 7 + pj[1] * 3) % 11 + pj[0] / 100)],
    ids=["point-major", "neuron-major", "shuffled"])
def test_a_layer_is_one_matrix_product_and_agrees_with_eager(build, signs, xw):
    f, n = _layer_loss(build, signs, xw)
    rng = np.random.default_rng(7)
    program = compile(f, *rng.normal(size=n).tolist())
    grids = [b.grid.shape for g in program.traces[0].schedule.groups for b in g.blocks if b.grid]
    assert (5, 4) in grids or (4, 5) in grids  # the layer's 60 products: one grid block
    points = rng.normal(size=(3, n))
    batch_value, batch_grads = program(*points.T)
    for j, point in enumerate(points):
        value, grads = value_and_grad(f, tuple(range(n)))(*point.tolist())
        scale = max(1.0, abs(value), *map(abs, grads))
        one_value, one_grads = program(*point.tolist())
        assert one_value == batch_value[j] == value  # forward: eager's arithmetic exactly
        for i, g in enumerate(grads):
            _close(one_grads[i], g, scale)
            _close(batch_grads[i][j], g, scale)


def test_a_layer_with_other_terms_between_its_products_agrees_with_eager():
    f, n = _layer_loss(lambda P, J: [(p, j) for p in range(P) for j in range(J)], True, False,
                       between=True)
    rng = np.random.default_rng(8)
    program = compile(f, *rng.normal(size=n).tolist())
    blocks = [b for g in program.traces[0].schedule.groups for b in g.blocks if b.grid]
    assert any(not isinstance(b.rows, slice) for b in blocks)  # products at rows 1, 3, 4
    points = rng.normal(size=(2, n))
    batch_value, batch_grads = program(*points.T)
    for j, point in enumerate(points):
        value, grads = value_and_grad(f, tuple(range(n)))(*point.tolist())
        one_value, one_grads = program(*point.tolist())
        assert one_value == batch_value[j] == value
        scale = max(1.0, *map(abs, grads))
        for i, g in enumerate(grads):
            _close(one_grads[i], g, scale)
            _close(batch_grads[i][j], g, scale)


def test_sums_add_their_terms_in_eager_order():
    def f(a, x, b, y):  # ((a + eˣ) + b) + eʸ: at a = 1e16, b = −1e16, x = y = 0 it is 1, not 2
        return sum((a + x.exp() + b + y.exp()) * 1.0 for _ in range(3))

    program = compile(f, 1.0, 0.0, 1.0, 0.0)
    at = (1e16, 0.0, -1e16, 0.0)
    eager = value_and_grad(f, (0, 1, 2, 3))(*at)[0]
    assert eager == 3.0
    assert program(*at)[0] == eager
    batch, _ = program(*[np.array([a, a]) for a in at])
    assert list(batch) == [eager, eager]
    # One node of ten terms: numpy would sum one column pairwise, eight partial sums at a time.
    single = compile(lambda a, x, b, y, *zs: sum(zs, a + x.exp() + b + y.exp()), *at, *[0.0] * 6)
    assert single(*at, *[0.0] * 6)[0] == 1.0
    assert list(single(*[np.array([a]) for a in (*at, *[0.0] * 6)])[0]) == [1.0]


@pytest.mark.parametrize("seed", range(40))
def test_random_dense_layers_replay_like_eager(seed):
    """Random sizes, loop orders, operand orders, signs, bias placement and activations: values
    equal eager's exactly through + − × and relu, and to rounding through tanh and sigmoid
    (numpy's exp and tanh against math's); gradients to rounding."""
    import random

    rng = random.Random(seed)
    n_in, n_out, n_points = rng.randint(1, 4), rng.randint(1, 5), rng.randint(1, 6)
    act = rng.choice(["relu", "tanh", "sigmoid", None])
    xw, sub, bias_first = (rng.random() < 0.5 for _ in range(3))
    pairs = [(p, j) for p in range(n_points) for j in range(n_out)]
    if rng.random() < 0.5:
        rng.shuffle(pairs)
    n = n_in * n_out + n_out + n_points * n_in

    def f(*a):
        W = [a[i * n_out:(i + 1) * n_out] for i in range(n_in)]
        b = a[n_in * n_out:n_in * n_out + n_out]
        X = [a[n_in * n_out + n_out + p * n_in:][:n_in] for p in range(n_points)]
        total, outs = a[0] * 0.0, {}
        for p, j in pairs:
            z = b[j] if bias_first else None
            for i in range(n_in):
                t = X[p][i] * W[i][j] if xw else W[i][j] * X[p][i]
                z = t if z is None else z - t if sub and i % 2 else z + t
            z = z if bias_first else z + b[j]
            outs[p, j] = getattr(z, act)() if act else z
        for key in sorted(outs):
            total = total + outs[key] * outs[key]
        return total

    points = np.random.default_rng(seed).normal(size=(3, n))
    program = compile(f, *points[0].tolist())
    batch_value, batch_grads = program(*points.T)
    for j, point in enumerate(points):
        value, grads = value_and_grad(f, tuple(range(n)))(*point.tolist())
        one_value, one_grads = program(*point.tolist())
        scale = max(1.0, abs(value), *map(abs, grads))
        if act in ("relu", None):
            assert one_value == batch_value[j] == value
        for got in (one_value, batch_value[j]):
            _close(got, value, scale)
        for i, g in enumerate(grads):
            _close(one_grads[i], g, scale)
            _close(batch_grads[i][j], g, scale)
