"""Optimizer steps are all or nothing: an overflowing update raises naming the parameter and
changes no parameter, no buffer (velocity, Adam's m and v) and no step count."""

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value
from autograd_core.nn import MLP, SGD, Adam, Optimizer

# Every optimizer of nn.optim, built in each configuration that keeps a different state.
MAKERS = {
    "SGD": lambda ps, lr: SGD(ps, lr),
    "SGD momentum": lambda ps, lr: SGD(ps, lr, momentum=0.9),
    "SGD weight decay": lambda ps, lr: SGD(ps, lr, momentum=0.5, weight_decay=0.1),
    "Adam": lambda ps, lr: Adam(ps, lr),
    "Adam weight decay": lambda ps, lr: Adam(ps, lr, weight_decay=0.1),
}


def test_every_optimizer_class_is_in_the_table():
    made = {type(make([Value(1.0)], 0.1)) for make in MAKERS.values()}
    assert made == set(Optimizer.__subclasses__())


def _state(opt, params):
    buffers = {k: dict(v) for k, v in vars(opt).items() if isinstance(v, dict)}
    return [p.data for p in params], [p.grad for p in params], buffers, opt.steps


def _warm(opt, params, steps=2):
    """A few ordinary steps first, so the buffers hold numbers a failed step could spoil."""
    for k in range(steps):
        for j, p in enumerate(params):
            p.grad = 0.1 * (j + 1) * (-1) ** k
        opt.step()


# (what overflows, parameters' data, grads, lr): the last parameter is the one that overflows,
# so a half-applied step would already have moved the others.
OVERFLOWS = [
    ("the update η·g", [1.0, -2.0, 1.0], [0.5, 0.25, 1e300], 1e10),
    ("the new value θ − ηg", [1.0, -2.0, -1.7e308], [0.5, 0.25, 1e308], 1.0),
    ("Adam's v = g² (1e160)", [1.0, -2.0, 1.0], [0.5, 0.25, 1e160], 1e-3),
    ("the weight decay λθ + g", [1.0, -2.0, 1.7e308], [0.5, 0.25, 1.7e308], 1e-3),
]

FINITE = {("Adam's v = g² (1e160)", n) for n in ("SGD", "SGD momentum", "SGD weight decay")}
FINITE |= {("the weight decay λθ + g", n) for n in ("SGD", "SGD momentum")}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("what, data, grads, lr", OVERFLOWS, ids=[o[0] for o in OVERFLOWS])
def test_an_overflowing_step_changes_nothing_and_names_the_parameter(name, what, data, grads,
                                                                      lr):
    params = [Value(1.0) for _ in data]
    opt = MAKERS[name](list(zip(["w", "b", "layer.2.w"], params)), lr)
    _warm(opt, params)
    for p, x, g in zip(params, data, grads):
        p.data, p.grad = x, g
    before = _state(opt, params)
    try:
        opt.step()
    except OverflowError as err:
        assert "'layer.2.w'" in str(err) and "parameter 2" in str(err)
        assert "nothing was changed" in str(err)
        assert _state(opt, params) == before
    else:  # SGD takes a grad of 1e160 in its stride (g² is Adam's alone), and without weight
        # decay a large θ and g are an ordinary step
        assert (what, name) in FINITE
        assert math.isfinite(params[2].data) and params[2].data != data[2]


def test_sgd_lr_1e10_with_a_grad_of_1e300_leaves_the_first_parameter():
    a, b = Value(1.0), Value(1.0)
    a.grad, b.grad = 1.0, 1e300
    with pytest.raises(OverflowError, match=r"parameter 1 \(data=1.0\)"):
        SGD([a, b], lr=1e10).step()
    assert a.data == 1.0 and b.data == 1.0


def test_momentum_does_not_keep_the_velocity_of_a_failed_step():
    a = Value(1.0)
    opt = SGD([a], lr=1e10, momentum=0.9)
    a.grad = 1e300  # Δ = 1e300 is finite; θ − ηΔ is not
    with pytest.raises(OverflowError, match="θ − ηΔ"):
        opt.step()
    assert opt.velocity == {} and opt.steps == 0
    opt.lr, a.grad = 0.5, 2.0
    opt.step()  # as if the failed step never happened: Δ = 2, θ = 1 − 0.5·2
    assert a.data == 0.0 and opt.velocity[a] == 2.0


def test_momentum_that_grows_past_a_float_over_steps_is_refused():
    a = Value(1.0)
    opt = SGD([a], lr=1e-300, momentum=0.9)
    a.grad = 1.5e308
    opt.step()
    with pytest.raises(OverflowError, match="velocity"):
        opt.step()  # 0.9·1.5e308 + 1.5e308 > 1.8e308
    assert opt.velocity[a] == 1.5e308 and opt.steps == 1


def test_adam_with_a_grad_of_1e160_raises_instead_of_freezing_the_parameter():
    a, b = Value(1.0), Value(1.0)
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = 1.0, 1e160
    with pytest.raises(OverflowError, match=r"second moment v .* parameter 1"):
        opt.step()
    assert (a.data, b.data, opt.m, opt.v, opt.steps) == (1.0, 1.0, {}, {}, 0)
    b.grad = 1.0
    opt.step()
    assert a.data < 1.0 and b.data < 1.0  # both move: nothing froze


def test_a_model_parameter_is_named_by_its_dotted_name():
    model = MLP(2, [2, 1], seed=0)
    opt = SGD(model.named_parameters(), lr=1e10)
    name, p = list(model.named_parameters())[-1]
    p.grad = 1e300
    with pytest.raises(OverflowError, match=f"'{name}'"):
        opt.step()


def test_a_labelled_value_is_named_by_its_label():
    w = Value(1.0, label="w")
    w.grad = 1e300
    with pytest.raises(OverflowError, match=r"parameter 0 \('w', data=1.0\)"):
        SGD([w], lr=1e10).step()


def test_a_grad_with_a_graph_steps_by_its_number():
    a = Value(3.0)
    (a * a).backward(create_graph=True)  # a.grad is the Value 2a
    SGD([a], lr=0.5).step()
    assert a.data == 0.0


def test_a_failing_schedule_changes_nothing():
    a = Value(1.0)
    a.grad = 1.0
    opt = SGD([a], lr=lambda k: math.inf)
    with pytest.raises(ValueError, match=r"lr\(0\) must be a finite number, got inf"):
        opt.step()
    assert a.data == 1.0 and opt.steps == 0


def test_a_failed_step_then_a_deep_copy_steps_like_a_fresh_one():
    params = [Value(1.0), Value(2.0)]
    opt = Adam(params, lr=0.1)
    params[0].grad, params[1].grad = 1e200, 1.0
    with pytest.raises(OverflowError):
        opt.step()
    params[0].grad = 1.0
    twin_params = copy.deepcopy(params)
    twin = Adam(twin_params, lr=0.1)
    opt.step()
    twin.step()
    assert [p.data for p in params] == [p.data for p in twin_params]


@pytest.mark.parametrize("params, words", [
    ([("w", 1.0)], "parameter 0 is a tuple, not a Value"),
    ([(0, Value(1.0))], "parameter 0's name must be a str, got int: 0"),
    (Value(1.0), "params must be an iterable of Values"),
    (3, "params must be an iterable of Values"),
])
def test_bad_parameter_lists_are_named(params, words):
    with pytest.raises(TypeError) as info:
        SGD(params, lr=0.1)
    assert words in str(info.value)


def _sgd_by_hand(data, grads, lr, mu, velocity):
    new_v = [mu * v + g for v, g in zip(velocity, grads)]
    return [x - lr * d for x, d in zip(data, new_v)], new_v


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e308, 1e308), st.floats(-1e308, 1e308)), min_size=1,
                max_size=4),
       st.sampled_from([1e-3, 1.0, 1e10, 1e300]), st.sampled_from([0.0, 0.9]))
def test_a_random_sgd_step_is_the_formula_or_changes_nothing(rows, lr, mu):
    params = [Value(x) for x, _ in rows]
    opt = SGD(params, lr, momentum=mu)
    for p, (_, g) in zip(params, rows):
        p.grad = g
    before = _state(opt, params)
    expected, velocity = _sgd_by_hand([x for x, _ in rows], [g for _, g in rows], lr, mu,
                                      [0.0] * len(rows))
    if all(map(math.isfinite, expected + velocity)):
        opt.step()
        assert [p.data for p in params] == expected
    else:
        with pytest.raises(OverflowError, match="nothing was changed"):
            opt.step()
        assert _state(opt, params) == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e10, 1e10), st.floats(-1e200, 1e200)), min_size=1,
                max_size=4))
def test_a_random_adam_step_never_stores_an_infinite_moment(rows):
    params = [Value(x) for x, _ in rows]
    opt = Adam(params, lr=0.1)
    for p, (_, g) in zip(params, rows):
        p.grad = g
    before = _state(opt, params)
    try:
        opt.step()
    except OverflowError:
        assert any(abs(g) > 1e150 for _, g in rows)  # only g² can overflow here
        assert _state(opt, params) == before
    else:
        assert all(math.isfinite(x) for x in [*opt.m.values(), *opt.v.values()])
        # a gradient well above ε moves its parameter by about η: nothing froze
        assert all(p.data != x for p, (x, g) in zip(params, rows) if abs(g) > 1e-3 and abs(x) < 1e8)
