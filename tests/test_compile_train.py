"""Compiled training: fit(compile=True) takes the same steps as eager fit, guard flips and
custom losses included; CompiledLoss keys a trace by batch shape and labels."""

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


def test_the_last_shorter_batch_gets_its_own_program():
    X, y = make_moons(10, noise=0.1, seed=0)
    model = MLP(2, [3, 1], seed=0)
    loss = CompiledLoss(model, objective(hinge_loss))
    y = 2.0 * y - 1.0
    for batch in (slice(0, 8), slice(8, 10)) * 3:
        loss.gradients(X[batch], y[batch])
    assert sorted(key[0] for key in loss.programs) == [(2, 2), (8, 2)]
