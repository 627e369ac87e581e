"""The XLA backend, compile(f, ..., backend="jax"): every op of the table replays eager values
and gradients on random DAGs through one jitted program (a point and a batch), guards flip
and retrace as with numpy, a record that cannot run on jax arrays falls back with one warning,
and without JAX the backend is refused in one ImportError naming the extra."""

import builtins
import importlib.util
import warnings

import numpy as np
import pytest
from test_compile import _function, _point, _recipe
from test_compile_guards import relu_by_branch

from autograd_core import GuardError, Value, compile, ops, value_and_grad

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="JAX is not installed: pip install 'autograd-core[jax]'")
RTOL = 1e-12


def _close(a, b, scale):
    assert abs(a - b) <= RTOL * scale, (a, b)


@needs_jax
@pytest.mark.parametrize("first", range(0, len(ops.OPS), 8))
def test_every_op_replays_random_dags_like_eager_through_xla_a_point_and_a_batch(first):
    # One program holds a random DAG per op of eight of the table's, each over arguments of
    # its own: XLA takes about a second to compile a program, and longer the more levels it has.
    rng = np.random.default_rng(25 + first)
    parts, owner = [], []
    for op in ops.OPS[first:first + 8]:
        n_in, steps = _recipe(op, rng)
        parts.append((op, n_in, _function(steps)))
        owner += [op.name] * n_in

    def f(*xs):
        total, at = Value(0.0), 0
        for _, n_in, g in parts:
            total = total + g(*xs[at:at + n_in])
            at += n_in
        return total

    points = [[x for op, n_in, _ in parts for x in _point(op, rng, n_in, kink=k)]
              for k in (False, False, True, True)]
    with warnings.catch_warnings():  # every record of the table runs on jax: no fallback
        warnings.simplefilter("error", RuntimeWarning)
        program = compile(f, *points[0], backend="jax")
        batch_value, batch_grads = program(*[np.array(col) for col in zip(*points)])
        one_value, one_grads = program(*points[3])  # a point at the kinks
    for j, p in enumerate(points):
        value, grads = value_and_grad(f, tuple(range(len(p))))(*p)
        _close(batch_value[j], value, max(1.0, abs(value)))
        for i, (g, b) in enumerate(zip(grads, batch_grads)):
            assert abs(b[j] - g) <= RTOL * max(1.0, abs(g)), (owner[i], b[j], g)
    _close(one_value, value, max(1.0, abs(value)))
    for i, (g, one) in enumerate(zip(grads, one_grads)):
        assert abs(one - g) <= RTOL * max(1.0, abs(g)), (owner[i], one, g)


@needs_jax
def test_a_dense_layer_with_a_hinge_replays_like_eager_and_like_numpy():
    rng = np.random.default_rng(3)
    X, w = rng.normal(size=(30, 3)), rng.normal(size=(4, 3))

    def loss(*ws):
        hidden = [sum((ws[3 * j + i] * x for i, x in enumerate(row)), Value(0.0)).relu()
                  for row in X.tolist() for j in range(4)]
        return sum(((1.0 - h).relu() for h in hidden), Value(0.0)) + sum(v * v for v in ws)

    theta = w.ravel().tolist()
    jax_value, jax_grads = compile(loss, *theta, backend="jax")(*theta)
    value, grads = value_and_grad(loss, tuple(range(12)))(*theta)
    assert jax_value == pytest.approx(value, rel=RTOL)
    assert list(jax_grads) == pytest.approx(list(grads), rel=1e-10, abs=1e-12)


@needs_jax
def test_a_branch_traced_at_minus_one_retraces_at_plus_one_and_strict_names_the_guard():
    program = compile(relu_by_branch, -1.3, backend="jax")
    assert program(-1.3) == (0.0, (0.0,))
    assert program(1.34) == (1.34, (1.0,))
    assert len(program.traces) == 2
    value, (grad,) = program(np.array([-2.0, 3.0, -0.5, 0.25]))
    assert value.tolist() == [0.0, 3.0, 0.0, 0.25] and grad.tolist() == [0.0, 1.0, 0.0, 1.0]
    strict = compile(relu_by_branch, -1.3, strict=True, backend="jax")
    with pytest.raises(GuardError, match=r"x < 0\.0 was True when traced and is False"):
        strict(1.34)


@needs_jax
def test_guards_flip_per_point_of_a_batch_and_each_trace_takes_its_points():
    def f(x, y):
        z = x * y
        return z.tanh() * 2.0 if z > 0.1 else (y - x).exp()

    xs, ys = np.random.default_rng(7).uniform(-1, 1, size=(2, 40))
    program = compile(f, 0.5, 0.5, backend="jax")
    values, (gx, gy) = program(xs, ys)
    assert len(program.traces) == 2
    for j, (x, y) in enumerate(zip(xs.tolist(), ys.tolist())):
        value, (ex, ey) = value_and_grad(f, (0, 1))(x, y)
        assert (values[j], gx[j], gy[j]) == pytest.approx((value, ex, ey), rel=RTOL)


@needs_jax
def test_a_tie_made_by_cancelling_products_is_decided_as_eager_decides_by_xla_too():
    def f(x, y):  # exactly 0 in eager; a fused multiply-add in XLA would leave a residue
        return (x * y - y * x).relu() * 3.0 + (x * y - y * x).abs() + x

    xs, ys = np.random.default_rng(5).normal(size=(2, 50))
    values, (gx, gy) = compile(f, 0.1, 0.3, backend="jax")(xs, ys)
    assert values.tolist() == pytest.approx(xs.tolist(), rel=RTOL)
    assert gx.tolist() == [1.0] * 50 and gy.tolist() == [0.0] * 50


@needs_jax
def test_a_closed_over_value_is_read_at_each_call():
    w = Value(2.0)
    program = compile(lambda x: x * w, 3.0, backend="jax")
    assert program(3.0) == (6.0, (2.0,))
    w.data = 5.0
    assert program(3.0) == (15.0, (5.0,))


@needs_jax
def test_an_op_outside_its_domain_is_eagers_error_with_the_batch_index():
    program = compile(lambda x: (x - 1.0).log(), 3.0, backend="jax")
    with pytest.raises(ValueError, match=r"batch index 2"):
        program(np.array([3.0, 2.0, 0.5]))


@needs_jax
def test_a_record_that_cannot_run_on_jax_arrays_falls_back_with_one_warning_naming_it():
    # no array forward, and a rule that branches with `if` (as a user's rule may)
    cube = ops.Op("cube_by_branch", "x³", ops.SCALER, "f = x³", forward=lambda x: x * x * x,
                  partials=(lambda out, x: 3.0 * x * x if x == x else 0.0,),
                  test_range=((-2.0, 2.0),))
    f = _function([(cube, [("v", 0)]), (ops.MUL, [("v", 0), ("v", 1)])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        program = compile(f, 0.5, backend="jax")
        value, (grad,) = program(np.array([0.5, -1.5, 1.25]))
    named = [w for w in caught if "cube_by_branch" in str(w.message)]
    assert {str(w.message).split(" (")[1].split(")")[0] for w in named} == {
        "array forward", "rule for ∂/∂x"}
    for j, x in enumerate([0.5, -1.5, 1.25]):
        assert (value[j], grad[j]) == pytest.approx(value_and_grad(f)(x), rel=RTOL)


@needs_jax
def test_float64_stays_local_to_our_calls():
    import jax.numpy as jnp

    compile(lambda x: x * 2.0, 1.0, backend="jax")(1.0)
    assert jnp.asarray([1.0]).dtype == jnp.float32  # other JAX users keep JAX's default


def test_an_unknown_backend_is_refused_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"backend must be one of 'numpy', 'jax', got 'xla'"):
        compile(lambda x: x, 1.0, backend="xla")


def test_backend_jax_without_jax_is_one_import_error_naming_the_extra(monkeypatch):
    real = builtins.__import__

    def without_jax(name, *args, **kwargs):
        if name == "jax" or name.startswith("jax."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_jax)
    with pytest.raises(ImportError, match=r"pip install 'autograd-core\[jax\]'"):
        compile(lambda x: x * 2.0, 1.0, backend="jax")



@needs_jax
@pytest.mark.parametrize("reassociate", [False, True])
def test_a_random_mlp_replays_like_eager_through_xla_with_and_without_reassociate(reassociate):
    from test_codegen_arrays import _mlp
    loss, theta = _mlp(11, 3, [6, 5, 1], "relu", 8)
    program = compile(loss, *theta, backend="jax", reassociate=reassociate)
    value, grads = program(*theta)
    want, eager = value_and_grad(loss, tuple(range(len(theta))))(*theta)
    # XLA's code generator may fuse a product and its add (one rounding instead of two): to
    # rounding either way, and the option changes only the order of the layer's adds.
    assert value == pytest.approx(want, rel=RTOL)
    assert list(grads) == pytest.approx(list(eager), rel=RTOL, abs=1e-15)
    thetas = np.array(theta)[:, None] + np.random.default_rng(2).normal(scale=0.1,
                                                                        size=(len(theta), 3))
    values, batch = program(*thetas)
    for j in range(3):
        want, eager = value_and_grad(loss, tuple(range(len(theta))))(*thetas[:, j].tolist())
        assert values[j] == pytest.approx(want, rel=RTOL)
        assert [g[j] for g in batch] == pytest.approx(list(eager), rel=RTOL, abs=1e-15)
