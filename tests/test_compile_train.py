"""Compiled training: fit(compile=True) takes the same steps as eager fit, guard flips and
custom losses included; CompiledLoss keys a trace by batch shape and labels."""

import warnings

import pytest

from autograd_core.nn import MLP, SGD, CompiledLoss, fit, hinge_loss, make_moons, objective


def _moons_run(compile_it):
    X, y = make_moons(40, noise=0.1, seed=1337)
    y = 2.0 * y - 1.0
    model = MLP(2, [16, 16, 1], seed=1)
    return fit(model, objective(hinge_loss, alpha=1e-4), (X, y), SGD(model.parameters(), lr=0.1),
               steps=100, progress=False, compile=compile_it)


def test_compiled_moons_training_reproduces_eager_losses():
    eager, compiled = _moons_run(False), _moons_run(True)
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-9, abs=1e-9)
    assert compiled.accuracy == eager.accuracy
    assert compiled.final_loss == pytest.approx(eager.final_loss, rel=1e-9)


def test_the_last_shorter_batch_gets_its_own_variant_traced_the_second_time_it_is_seen():
    X, y = make_moons(10, noise=0.1, seed=0)
    model = MLP(2, [3, 1], seed=0)
    loss = CompiledLoss(model, objective(hinge_loss))
    y = 2.0 * y - 1.0
    for batch in (slice(0, 8), slice(8, 10)):
        loss.gradients(X[batch], y[batch])
    assert [len(v.traces) for v in loss.program.variants.values()] == [0, 0]  # taken eagerly
    for batch in (slice(0, 8), slice(8, 10)) * 2:
        loss.gradients(X[batch], y[batch])
    assert [len(v.traces) for v in loss.program.variants.values()] == [1, 1]
    assert [v.key[1][0][1][1] for v in loss.program.variants.values()] == [(8, 2), (2, 2)]


def _custom_loss(model, X, y):
    """A loss that is no Objective: its accuracy comes back from loss_fn itself."""
    outputs = [model(x) for x in X]
    loss = sum(((1.0 - yi * out).relu() for out, yi in zip(outputs, y)), outputs[0] * 0.0)
    hits = sum((out.data > 0) == (yi > 0) for out, yi in zip(outputs, y))
    return loss * (1.0 / len(X)), hits / len(X)


def test_fit_compiled_with_a_custom_loss_returns_its_accuracy_like_eager():
    X, y = make_moons(30, noise=0.1, seed=3)
    y = 2.0 * y - 1.0
    runs = []
    for compile_it in (False, True):
        model = MLP(2, [6, 1], seed=2)
        runs.append(fit(model, _custom_loss, (X, y), SGD(model.parameters(), lr=0.1), steps=8,
                        progress=False, compile=compile_it))
    eager, compiled = runs
    assert compiled.accuracy == eager.accuracy and None not in compiled.accuracy
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-9)


def _branchy_hinge(model, X, y):
    """A hinge written with a branch per point: a guard that flips as the margins move."""
    total = None
    for x, yi in zip(X, y):
        margin = model(x) * yi
        term = 1.0 - margin if margin < 1.0 else margin * 0.0
        total = term if total is None else total + term
    return total * (1.0 / len(X)), None


def test_guard_flips_during_compiled_fit_take_the_same_steps_as_eager():
    X, y = make_moons(24, noise=0.2, seed=5)
    y = 2.0 * y - 1.0
    runs = []
    for compile_it in (False, True):
        model = MLP(2, [5, 1], seed=4)
        with warnings.catch_warnings(record=True) as caught:  # flips past the cap: eager
            warnings.simplefilter("always")
            runs.append((fit(model, _branchy_hinge, (X, y), SGD(model.parameters(), lr=0.3),
                             steps=30, progress=False, compile=compile_it), model))
    assert len(caught) == 1 and "keeps flipping" in str(caught[0].message)
    (eager, eager_model), (compiled, compiled_model) = runs
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-12, abs=1e-14)  # step by step
    assert [p.data for p in compiled_model.parameters()] == pytest.approx(
        [p.data for p in eager_model.parameters()], rel=1e-12, abs=1e-14)
    assert len(set(compiled.loss)) > 20  # the weights moved: the gradients were not zero
