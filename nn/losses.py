"""Losses composed from Value ops (no hand-written backward), each the mean over a batch.

Named as PyTorch's `torch.nn.functional` names them (`mse_loss`, `l1_loss`, `cross_entropy`,
`binary_cross_entropy_with_logits`); the hinge losses, which PyTorch defines differently, are
named in the same style (`hinge_loss`, `multiclass_hinge_loss`). `mse_loss` and `l1_loss` take
one number or one vector of outputs per example (the mean runs over every element, as
PyTorch's); binary losses one prediction per example; `cross_entropy` and
`multiclass_hinge_loss` one list of scores and a class index, or a batch of both.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from autograd_core import Value

from .optim import _check_number

Scalar = float | Value
Scores = Sequence[Scalar]


def _total(terms: Sequence[Scalar]) -> Scalar:
    """Σ terms, without the extra `0 + …` node that sum() would add."""
    return sum(terms[1:], terms[0])


def _mean(terms: Sequence[Scalar]) -> Value:
    out = _total(terms) * (1.0 / len(terms))
    return out if isinstance(out, Value) else Value(out)


def _data(x: Scalar) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _batch(who: str, predictions: Any, targets: Any) -> tuple[list[Scalar], list[float]]:
    """Predictions and targets as equal-length lists; a single prediction counts as a batch of 1."""
    if isinstance(predictions, (Value, numbers.Real)):
        predictions, targets = [predictions], [targets]
    predictions, targets = list(predictions), list(targets)
    if not predictions:
        raise ValueError(f"{who} needs at least one prediction, got an empty list")
    if len(predictions) != len(targets):
        raise ValueError(f"{who} got {len(predictions)} predictions but {len(targets)} targets")
    for i, t in enumerate(targets):
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or not math.isfinite(t):
            raise TypeError(f"{who}: target {i} must be a finite number, got {t!r}")
    return predictions, [float(t) for t in targets]


def _elementwise(who: str, predictions: Any, targets: Any) -> tuple[list[Scalar], list[float]]:
    """Predictions and targets paired element by element: each example's output is a number or
    a vector, and its target a number or a vector of the same length."""
    if isinstance(predictions, (Value, numbers.Real)):
        predictions, targets = [predictions], [targets]
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(f"{who} got {len(predictions)} predictions but {len(targets)} targets")
    ps: list[Any] = []
    ts: list[Any] = []
    for i, (p, t) in enumerate(zip(predictions, targets)):
        if isinstance(p, (Value, numbers.Real)):
            ps.append(p)
            ts.append(t)
            continue
        p = list(p)
        t = [t] if isinstance(t, numbers.Real) else list(t)
        if len(p) != len(t):
            raise ValueError(f"{who}: example {i} has {len(p)} outputs but {len(t)} targets")
        ps += p
        ts += t
    return _batch(who, ps, ts)


def mse_loss(predictions: Any, targets: Any) -> Value:
    """Mean squared error over every element: (1/n) Σ (ŷᵢ − yᵢ)²."""
    ps, ts = _elementwise("mse_loss", predictions, targets)
    return _mean([(p - t) ** 2 for p, t in zip(ps, ts)])


def l1_loss(predictions: Any, targets: Any) -> Value:
    """Mean absolute error over every element: (1/n) Σ |ŷᵢ − yᵢ|."""
    ps, ts = _elementwise("l1_loss", predictions, targets)
    return _mean([_as_value(p - t).abs() for p, t in zip(ps, ts)])


def hinge_loss(scores: Scores | Scalar, labels: Sequence[float] | float,
               margin: float = 1.0) -> Value:
    """Binary max-margin (SVM) loss, labels ±1: (1/n) Σ max(0, margin − yᵢ·sᵢ)."""
    ss, ys = _batch("hinge_loss", scores, labels)
    for i, y in enumerate(ys):
        if y not in (1.0, -1.0):
            raise ValueError(f"hinge_loss needs labels +1 or -1, got {y!r} at index {i}")
    return _mean([_relu(margin - y * s) for s, y in zip(ss, ys)])


def binary_cross_entropy(probabilities: Scores | Scalar,
                         labels: Sequence[float] | float) -> Value:
    """−(1/n) Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)], probabilities pᵢ in (0, 1), labels in [0, 1]."""
    ps, ys = _batch("binary_cross_entropy", probabilities, labels)
    _check_unit_labels("binary_cross_entropy", ys)
    terms = []
    for i, (p, y) in enumerate(zip(ps, ys)):
        if not 0.0 < _data(p) < 1.0:
            raise ValueError(f"binary_cross_entropy needs probabilities in (0, 1), got "
                             f"{_data(p)!r} at index {i}; for raw scores use "
                             "binary_cross_entropy_with_logits")
        # A hard label leaves one term, so log(1 − p) is never built when p is near 1 for y = 1.
        term: Scalar = 0.0
        if y != 0.0:
            term = term - y * _log(p)
        if y != 1.0:
            term = term - (1.0 - y) * _log(1.0 - p)
        terms.append(term)
    return _mean(terms)


def binary_cross_entropy_with_logits(logits: Scores | Scalar,
                                     labels: Sequence[float] | float) -> Value:
    """BCE of σ(zᵢ), computed stably: (1/n) Σ softplus(zᵢ) − yᵢ·zᵢ, labels in [0, 1]."""
    zs, ys = _batch("binary_cross_entropy_with_logits", logits, labels)
    _check_unit_labels("binary_cross_entropy_with_logits", ys)
    return _mean([softplus(z) - y * z for z, y in zip(zs, ys)])


def softplus(z: Scalar) -> Value:
    """log(1 + eᶻ), stable for any z: z + log(1 + e⁻ᶻ) when z ≥ 0."""
    z = _as_value(z)
    # Both branches are the same smooth function, so choosing by data adds no kink; each only
    # ever exponentiates a non-positive number, so exp cannot overflow.
    if z.data >= 0.0:
        return z + (1.0 + (-z).exp()).log()
    return (1.0 + z.exp()).log()


def softmax(logits: Scores) -> list[Value]:
    """pᵢ = e^(zᵢ − m) / Σⱼ e^(zⱼ − m) with m = max z (a constant: softmax is shift invariant)."""
    shifted = _shifted("softmax", logits)
    exps = [z.exp() for z in shifted]
    total = _total(exps)
    return [e / total for e in exps]


def log_softmax(logits: Scores) -> list[Value]:
    """log pᵢ = (zᵢ − m) − log Σⱼ e^(zⱼ − m), m = max z; never takes the log of a tiny pᵢ."""
    shifted = _shifted("log_softmax", logits)
    lse = _log_sum_exp(shifted)
    return [z - lse for z in shifted]


def cross_entropy(logits: Scores | Sequence[Scores], target: int | Sequence[int]) -> Value:
    """−log softmax(z)[y] = log Σⱼ e^(zⱼ − m) − (z_y − m); a batch (lists of logits and of
    targets) gives the mean."""
    return _per_example("cross_entropy", logits, target, _cross_entropy)


def multiclass_hinge_loss(scores: Scores | Sequence[Scores], target: int | Sequence[int],
                          margin: float = 1.0) -> Value:
    """Multiclass SVM loss Σ_{j≠y} max(0, sⱼ − s_y + margin); a batch gives the mean."""
    margin = _check_number("multiclass_hinge_loss", "margin", margin, -math.inf)
    return _per_example("multiclass_hinge_loss", scores, target,
                        lambda s, y: _multiclass_hinge(s, y, margin))


def l2_regularization(parameters: Iterable[Value], alpha: float = 1.0) -> Value:
    """alpha · Σ θ²."""
    alpha = _check_number("l2_regularization", "alpha", alpha, 0.0)
    squares = [p * p for p in parameters]
    if not squares:
        raise ValueError("l2_regularization needs at least one parameter, got none")
    return _as_value(alpha * _total(squares))


# --- helpers --------------------------------------------------------------------------------

def _as_value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _relu(x: Scalar) -> Value:
    return _as_value(x).relu()


def _log(x: Scalar) -> Value:
    return _as_value(x).log()


def _check_unit_labels(who: str, ys: list[float]) -> None:
    for i, y in enumerate(ys):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{who} needs labels in [0, 1], got {y!r} at index {i}")


def _shifted(who: str, logits: Scores) -> list[Value]:
    """zᵢ − max z, the max taken from the data so it is a constant in the graph."""
    zs = [_as_value(z) for z in logits]
    if not zs:
        raise ValueError(f"{who} needs at least one logit, got an empty list")
    top = max(z.data for z in zs)
    return [z - top for z in zs]


def _log_sum_exp(shifted: list[Value]) -> Value:
    """log Σ e^(zᵢ − m): the largest term is e⁰ = 1, so the sum is ≥ 1 and never overflows."""
    return _log(_total([z.exp() for z in shifted]))


def _check_class(who: str, target: Any, n: int) -> int:
    if not isinstance(target, numbers.Integral) or isinstance(target, bool):
        raise TypeError(f"{who}: the target must be a class index (int), got "
                        f"{type(target).__name__}: {target!r}")
    if not 0 <= int(target) < n:
        raise IndexError(f"{who}: class index {target} is out of range for {n} scores "
                         f"(0 to {n - 1})")
    return int(target)


def _per_example(who: str, scores: Any, target: Any, loss: Any) -> Value:
    """loss(scores, target) for one example, or the mean of it over a batch."""
    if isinstance(target, (numbers.Number, str)) or not hasattr(target, "__len__"):
        examples, targets = [scores], [target]  # one example; a bad target is named below
    else:
        examples, targets = list(scores), list(target)
        if len(examples) != len(targets):
            raise ValueError(f"{who} got {len(examples)} examples but {len(targets)} targets")
    if not examples:
        raise ValueError(f"{who} needs at least one example, got an empty batch")
    terms = []
    for s, y in zip(examples, targets):
        s = list(s)
        if not s:
            raise ValueError(f"{who} needs at least one score per example, got an empty list")
        terms.append(loss(s, _check_class(who, y, len(s))))
    return _mean(terms)


def _cross_entropy(logits: list[Scalar], y: int) -> Value:
    shifted = _shifted("cross_entropy", logits)
    return _log_sum_exp(shifted) - shifted[y]


def _multiclass_hinge(scores: list[Scalar], y: int, margin: float) -> Value:
    correct = scores[y]
    if len(scores) == 1:  # no wrong class, so nothing to violate
        return _as_value(correct) * 0.0
    return _as_value(_total([_relu(s - correct + margin) for j, s in enumerate(scores) if j != y]))


# The short names these losses had before they took PyTorch's: kept working, with a warning, so
# code written against them still runs while it moves to the new names.
_RENAMED: dict[str, Callable[..., Value]] = {
    "mse": mse_loss, "l1": l1_loss, "hinge": hinge_loss,
    "multiclass_hinge": multiclass_hinge_loss}


def __getattr__(name: str) -> Callable[..., Value]:
    if name in _RENAMED:
        new = _RENAMED[name]
        warnings.warn(f"{name} is now called {new.__name__}; the old name will go",
                      DeprecationWarning, stacklevel=2)
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
