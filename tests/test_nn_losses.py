"""nn.losses: the slides' numbers, every loss gradchecked, stability, bad input."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradcheck
from autograd_core.nn import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_loss,
    l2_regularization,
    log_softmax,
    mse_loss,
    multiclass_hinge_loss,
    softmax,
    softplus,
)

# The slides' linear classifier scores, one column per image.
CAT, CAR, FROG = (3.2, 5.1, -1.7), (1.3, 4.9, 2.0), (2.2, 2.5, -3.1)


def test_slides_softmax_and_cross_entropy():
    logits = [-2.85, 0.86, 0.28]
    # The slide rounds e^z to 0.058, 2.36, 1.32 before normalising, so its first probability
    # reads 0.016 where the exact one is 0.0154: equal to the slide's three decimals ± 0.001.
    assert [p.data for p in softmax(logits)] == pytest.approx([0.016, 0.631, 0.353], abs=1e-3)
    assert [round(p.data, 3) for p in softmax(logits)][1:] == [0.631, 0.353]
    assert round(cross_entropy(logits, 2).data, 2) == 1.04  # the slide's "class 3"


def test_slides_multiclass_hinge_cat_car_frog():
    losses = [multiclass_hinge_loss(s, y).data for s, y in [(CAT, 0), (CAR, 1), (FROG, 2)]]
    assert [round(x, 1) for x in losses] == [2.9, 0.0, 12.9]
    assert round(multiclass_hinge_loss([CAT, CAR, FROG], [0, 1, 2]).data, 2) == 5.27
    # The slide prints 10.9 for the frog (mean 4.6): its arithmetic, max(0, 5.3) + max(0, 5.6),
    # left out the margin. The correct sum is 6.3 + 6.6 = 12.9; the slide's number is what a
    # margin of 0 gives for this image.
    assert round(multiclass_hinge_loss(FROG, 2, margin=0.0).data, 1) == 10.9


def test_slides_squared_error_gradients():
    x, y, w = 1.0, 2.0, Value(1.0)
    y_hat = w * x
    loss = mse_loss(y_hat, y)
    loss.backward()
    assert loss.data == 1.0
    assert y_hat.grad == -2.0  # ∂L/∂ŷ = 2(ŷ − y)
    assert w.grad == -2.0  # ∂L/∂w = ∂L/∂ŷ · x


# Every loss as a function of its Value inputs, with inputs away from its kinks.
LOSSES = {
    "mse": (lambda a, b: mse_loss([a, b], [0.5, -1.0]), [1.3, 0.2]),
    "l1": (lambda a, b: l1_loss([a, b], [0.5, -1.0]), [1.3, 0.2]),
    "hinge": (lambda a, b: hinge_loss([a, b], [1, -1]), [0.4, -0.3]),
    "binary_cross_entropy": (lambda a, b: binary_cross_entropy([a, b], [1, 0.25]), [0.7, 0.4]),
    "binary_cross_entropy_with_logits":
        (lambda a, b: binary_cross_entropy_with_logits([a, b], [1, 0]), [0.0, -2.5]),
    "softmax": (lambda a, b, c: softmax([a, b, c])[1], [-2.85, 0.86, 0.28]),
    "log_softmax": (lambda a, b, c: log_softmax([a, b, c])[0], [-2.85, 0.86, 0.28]),
    "cross_entropy": (lambda a, b, c: cross_entropy([a, b, c], 2), [-2.85, 0.86, 0.28]),
    "cross_entropy_batch":
        (lambda a, b, c, d: cross_entropy([[a, b], [c, d]], [0, 1]), [0.3, -0.2, 1.5, 0.1]),
    "multiclass_hinge": (lambda a, b, c: multiclass_hinge_loss([a, b, c], 0), list(CAT)),
    "softplus": (lambda a: softplus(a), [-0.7]),
    "l2_regularization": (lambda a, b: l2_regularization([a, b], alpha=0.1), [0.5, -2.0]),
}


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_gradchecks(name):
    f, inputs = LOSSES[name]
    assert gradcheck(f, inputs)


finite = st.floats(-6.0, 6.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=1, max_size=5), st.data())
def test_cross_entropy_is_minus_log_softmax_and_gradchecks(logits, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    top = max(logits)
    log_z = top + math.log(sum(math.exp(z - top) for z in logits))
    assert cross_entropy(logits, target).data == pytest.approx(log_z - logits[target], abs=1e-12)
    assert sum(p.data for p in softmax(logits)) == pytest.approx(1.0)
    assert gradcheck(lambda *zs: cross_entropy(list(zs), target), logits)


@settings(max_examples=40, deadline=None)
@given(st.floats(-30.0, 30.0), st.sampled_from([0.0, 1.0, 0.3]))
def test_bce_with_logits_matches_bce_of_sigmoid_and_gradchecks(z, y):
    p = 1 / (1 + math.exp(-z))
    if 1e-9 < p < 1 - 1e-9:
        assert binary_cross_entropy_with_logits(z, y).data == pytest.approx(
            binary_cross_entropy(p, y).data, rel=1e-6)
    assert gradcheck(lambda v: binary_cross_entropy_with_logits(v, y), [z])


def test_stable_for_huge_logits():
    assert [p.data for p in softmax([1000.0, 1000.0])] == [0.5, 0.5]
    assert cross_entropy([1000.0, 0.0], 1).data == pytest.approx(1000.0)
    assert log_softmax([-1000.0, 0.0])[0].data == pytest.approx(-1000.0)
    assert binary_cross_entropy_with_logits(-800.0, 1).data == pytest.approx(800.0)
    assert binary_cross_entropy_with_logits(800.0, 1).data == 0.0


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_label():
    z = Value(0.0)
    binary_cross_entropy_with_logits(z, 1).backward()
    assert z.grad == pytest.approx(-0.5)  # σ(0) − y, no kink at 0


def test_hinge_is_micrograds_svm_loss():
    scores, labels = [Value(0.3), Value(-2.0), Value(1.5)], [1, 1, -1]
    expected = (max(0, 1 - 0.3) + max(0, 1 + 2.0) + max(0, 1 + 1.5)) / 3
    assert hinge_loss(scores, labels).data == pytest.approx(expected)


def test_l2_regularization_is_alpha_times_sum_of_squares():
    assert l2_regularization([Value(1.0), Value(-2.0)], alpha=1e-4).data == pytest.approx(5e-4)


@pytest.mark.parametrize("call, error, words", [
    (lambda: mse_loss([], []), ValueError, "mse_loss needs at least one prediction"),
    (lambda: l1_loss([1.0, 2.0], [1.0]), ValueError, "l1_loss got 2 predictions but 1 targets"),
    (lambda: hinge_loss([0.5, 0.2], [1, 0]), ValueError, "labels +1 or -1, got 0.0 at index 1"),
    (lambda: mse_loss([1.0], ["a"]), TypeError, "target 0 must be a finite number"),
    (lambda: cross_entropy([1.0, 2.0], 2), IndexError, "class index 2 is out of range"),
    (lambda: cross_entropy([1.0, 2.0], -1), IndexError, "class index -1 is out of range"),
    (lambda: cross_entropy([1.0, 2.0], 1.0), TypeError, "class index (int), got float"),
    (lambda: cross_entropy([], 0), ValueError, "at least one score"),
    (lambda: cross_entropy([[1.0], [2.0]], [0]), ValueError, "2 examples but 1 targets"),
    (lambda: multiclass_hinge_loss(CAT, 3), IndexError, "out of range for 3 scores"),
    (lambda: softmax([]), ValueError, "softmax needs at least one logit"),
    (lambda: binary_cross_entropy([1.0], [1]), ValueError, "probabilities in (0, 1), got 1.0"),
    (lambda: binary_cross_entropy([0.5], [2]), ValueError, "labels in [0, 1], got 2.0"),
    (lambda: l2_regularization([]), ValueError, "at least one parameter"),
])
def test_bad_input_says_what_is_wrong(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# --- vector outputs and one naming scheme -----------------------------------------------------

def test_mse_and_l1_take_a_vector_of_outputs_per_example_and_average_every_element():
    outputs = [[Value(1.0), Value(2.0)], [Value(0.0), Value(-1.0)]]
    targets = [[0.0, 0.0], [0.0, 1.0]]
    assert mse_loss(outputs, targets).data == pytest.approx((1 + 4 + 0 + 4) / 4)
    assert l1_loss(outputs, targets).data == pytest.approx((1 + 2 + 0 + 2) / 4)
    with pytest.raises(ValueError, match="mse_loss: example 1 has 2 outputs but 1 targets"):
        mse_loss(outputs, [[0.0, 0.0], [0.0]])


@pytest.mark.parametrize("old, new", [("mse", "mse_loss"), ("l1", "l1_loss"),
                                      ("hinge", "hinge_loss"),
                                      ("multiclass_hinge", "multiclass_hinge_loss")])
def test_the_old_short_loss_names_still_work_with_a_deprecation_warning(old, new):
    from autograd_core import nn
    from autograd_core.nn import losses

    for module in (nn, losses):
        with pytest.warns(DeprecationWarning, match=f"{old} is now called {new}"):
            assert getattr(module, old) is getattr(losses, new)
    with pytest.raises(AttributeError):
        nn.no_such_loss  # noqa: B018
