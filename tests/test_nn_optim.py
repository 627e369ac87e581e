"""nn.optim: SGD with momentum and Adam against their formulas by hand, schedules, bad input."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value
from autograd_core.nn import SGD, Adam, Neuron, linear_schedule, mse_loss


def _quadratic_grads(theta):
    """∂L/∂θ of L = (θ₀ − 3)² + 0.5·θ₁⁴, by hand."""
    return [2 * (theta[0] - 3.0), 2.0 * theta[1] ** 3]


def _loss(params):
    return (params[0] - 3.0) ** 2 + 0.5 * params[1] ** 4


def _run(optimizer, params, steps=3):
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(params).backward()
        optimizer.step()
    return [p.data for p in params]


def test_slides_sgd_momentum_over_three_steps():
    lr, mu, decay = 0.1, 0.9, 0.01
    params = [Value(1.0), Value(-0.5)]
    got = _run(SGD(params, lr, momentum=mu, weight_decay=decay), params)

    theta, delta = [1.0, -0.5], [0.0, 0.0]
    for _ in range(3):
        g = [gi + decay * t for gi, t in zip(_quadratic_grads(theta), theta)]
        delta = [mu * d + gi for d, gi in zip(delta, g)]  # Δ ← μΔ + ∂L/∂θ
        theta = [t - lr * d for t, d in zip(theta, delta)]  # θ ← θ − ηΔ
    assert got == pytest.approx(theta, rel=1e-12)


def test_adam_matches_the_textbook_over_three_steps():
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    params = [Value(1.0), Value(-0.5)]
    got = _run(Adam(params, lr, betas=(b1, b2), eps=eps), params)

    theta, m, v = [1.0, -0.5], [0.0, 0.0], [0.0, 0.0]
    for t in range(1, 4):
        g = _quadratic_grads(theta)
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        theta = [th - lr * mh / (math.sqrt(vh) + eps) for th, mh, vh in zip(theta, m_hat, v_hat)]
    assert got == pytest.approx(theta, rel=1e-12)


def test_optimizer_state_is_keyed_by_parameter():
    params = [Value(1.0), Value(-0.5)]
    sgd, adam = SGD(params, 0.1, momentum=0.5), Adam(params)
    _run(sgd, params, steps=1)
    _run(adam, params, steps=1)
    assert set(sgd.velocity) == set(adam.m) == set(adam.v) == set(params)
    assert adam.steps == sgd.steps == 1


def test_plain_sgd_is_theta_minus_lr_grad():
    p = Value(2.0)
    p.grad = 0.5
    SGD([p], lr=0.1).step()
    assert p.data == 2.0 - 0.1 * 0.5


def test_schedule_is_called_with_the_step_number():
    p = Value(0.0)
    seen = []
    opt = SGD([p], lr=lambda k: seen.append(k) or 0.1)
    for _ in range(3):
        p.grad = 1.0
        opt.step()
    assert seen == [0, 1, 2]
    assert p.data == pytest.approx(-0.3)


def test_linear_schedule_is_micrograds():
    lr = linear_schedule(1.0, 0.1, 100)
    assert [lr(k) for k in (0, 40, 99)] == [1.0 - 0.9 * k / 100 for k in (0, 40, 99)]
    assert lr(100) == lr(500) == pytest.approx(0.1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-3, 3)),
                min_size=1, max_size=8),
       st.integers(0, 2**31))
def test_one_sgd_step_on_random_data_lowers_the_loss(rows, seed):
    neuron = Neuron(2, activation="linear", seed=seed)
    opt = SGD(neuron.parameters(), lr=1e-2)

    def loss():
        return mse_loss([neuron([x1, x2]) for x1, x2, _ in rows], [t for *_, t in rows])

    before = loss()
    opt.zero_grad()
    before.backward()
    if sum(p.grad**2 for p in neuron.parameters()) < 1e-12:
        return  # already at the minimum: nothing to lower
    opt.step()
    assert loss().data < before.data


@pytest.mark.parametrize("make, error, words", [
    (lambda p: SGD(p, lr=-0.1), ValueError, "SGD: lr must be in [0.0, inf], got -0.1"),
    (lambda p: SGD(p, lr="fast"), TypeError, "lr must be a number"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, "momentum must be in [0.0, 1.0)"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1), ValueError, "weight_decay must be in"),
    (lambda p: SGD([], lr=0.1), ValueError, "SGD got no parameters"),
    (lambda p: SGD([1.0], lr=0.1), TypeError, "parameter 0 is a float, not a Value"),
    (lambda p: SGD(p + p, lr=0.1), ValueError, "appears more than once"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, "betas[1] must be in [0.0, 1.0)"),
    (lambda p: Adam(p, betas=0.9), TypeError, "betas must be a pair"),
    (lambda p: Adam(p, eps=0.0), ValueError, "eps must be > 0"),
    (lambda p: SGD(p, lr=lambda k: -1.0).step(), ValueError, "lr(0) must be in [0.0, inf]"),
    (lambda p: linear_schedule(1.0, 0.1, 0), ValueError, "steps must be an int ≥ 1"),
])
def test_bad_hyper_parameters_say_what_is_wrong(make, error, words):
    with pytest.raises(error) as info:
        make([Value(1.0)])
    assert words in str(info.value)


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.5),
    lambda ps: Adam(ps, lr=0.1, weight_decay=0.5),
])
def test_a_frozen_parameter_stays_as_it_is_decay_and_momentum_included(make):
    free, frozen = Value(1.0), Value(2.0)
    frozen.requires_grad_(False)
    optimizer = make([free, frozen])
    for _ in range(3):
        optimizer.zero_grad()
        (free * frozen + frozen * frozen).backward()
        optimizer.step()
    assert frozen.data == 2.0 and frozen.grad == 0.0
    assert free.data != 1.0
    buffers = [b for b in ("velocity", "m", "v") if hasattr(optimizer, b)]
    assert all(frozen not in getattr(optimizer, b) for b in buffers)
    frozen.requires_grad_(True)  # unfrozen, it trains again
    optimizer.zero_grad()
    (free * frozen).backward()
    optimizer.step()
    assert frozen.data != 2.0
