"""Every public signature covered here refuses bad arguments up front: a bool where an int is
meant, a str for a float, NaN, inf, a negative where a positive is needed. The error is the
TypeError or ValueError a Python user expects, names the argument, and prints.

The table walks each function's signature: a parameter added later without a row here (or a
reason it takes anything) fails the first test.
"""

import inspect
import io
import math

import numpy as np
import pytest

from autograd_core import Value, gradcheck, nn, numerical_gradient
from autograd_core.nn import (
    MLP,
    SGD,
    Adam,
    Module,
    fit,
    linear_schedule,
    make_xor,
    mse_loss,
    objective,
)

NAN, INF = math.nan, math.inf

# Bad values by kind of parameter, each with the error it must raise.
BAD = {
    "int ≥ 1": [(True, TypeError), (2.5, TypeError), ("3", TypeError), (0, ValueError),
                (-1, ValueError)],
    "int ≥ 0": [(True, TypeError), (2.5, TypeError), ("3", TypeError), (-1, ValueError)],
    "finite ≥ 0": [(True, TypeError), ("0.1", TypeError), (None, TypeError),
                   (NAN, ValueError), (INF, ValueError), (-1.0, ValueError)],
    "finite > 0": [(True, TypeError), ("a", TypeError), (NAN, ValueError), (INF, ValueError),
                   (-1.0, ValueError), (0.0, ValueError)],
    "fraction [0, 1)": [(True, TypeError), ("a", TypeError), (NAN, ValueError),
                        (1.0, ValueError), (-0.1, ValueError), (INF, ValueError)],
    "pair of fractions": [(0.9, TypeError), ((0.9,), TypeError), ((NAN, 0.9), ValueError),
                          ((0.9, 1.0), ValueError), ((True, 0.9), TypeError)],
    "bool": [("yes", TypeError), (1, TypeError), (None, TypeError), (0.0, TypeError)],
    "callable": [(3, TypeError), ("f", TypeError), (None, TypeError)],
    "callable or None": [(3, TypeError), ("f", TypeError)],
    "Module": [(3, TypeError), (None, TypeError), ("model", TypeError)],
    "Optimizer": [(None, TypeError), ("sgd", TypeError), (0.1, TypeError)],
    "pair (X, y)": [(3, TypeError), ((1, 2, 3), TypeError), (None, TypeError)],
    "numbers": [(5, TypeError), ("ab", TypeError), (["a"], TypeError), ([NAN], ValueError),
                ([1.0, INF], ValueError), ([True], TypeError)],
}


def _model():
    return MLP(2, [2, 1], seed=0)


def _fit(**kwargs):
    model = _model()
    args = {"model": model, "loss_fn": objective(mse_loss), "data": make_xor(),
            "optimizer": SGD(model.parameters(), 0.1), "steps": 1, "progress": False}
    if "epochs" in kwargs:
        args["steps"] = None
    args.update(kwargs)
    return fit(**args)


def _square(x):
    return x * x


# (label, the function whose signature is walked, call(**one bad argument), kinds by parameter,
#  parameters the table leaves alone, with the reason)
SUBJECTS = [
    ("SGD", SGD.__init__, lambda **kw: SGD(**{"params": [Value(1.0)], "lr": 0.1, **kw}),
     {"lr": "finite ≥ 0", "momentum": "fraction [0, 1)", "weight_decay": "finite ≥ 0"},
     {"params": "test_faults_optim: test_bad_parameter_lists_are_named"}),
    ("Adam", Adam.__init__, lambda **kw: Adam(**{"params": [Value(1.0)], **kw}),
     {"lr": "finite ≥ 0", "betas": "pair of fractions", "eps": "finite > 0",
      "weight_decay": "finite ≥ 0"},
     {"params": "as SGD's"}),
    ("linear_schedule", linear_schedule,
     lambda **kw: linear_schedule(**{"start": 0.1, "end": 0.01, "steps": 10, **kw}),
     {"start": "finite ≥ 0", "end": "finite ≥ 0", "steps": "int ≥ 1"}, {}),
    ("Module.train", Module.train, lambda **kw: _model().train(**kw), {"mode": "bool"}, {}),
    ("Module.load_state_dict", Module.load_state_dict,
     lambda **kw: _model().load_state_dict(**{"state": _model().state_dict(), **kw}),
     {"strict": "bool"}, {"state": "test_nn_module and test_bad_state_dict_keys_are_named"}),
    ("Module.load", Module.load, lambda **kw: _model().load(**{"path": "absent.json", **kw}),
     {"max_bytes": "int ≥ 1"}, {"path": "test_faults_files: the reader's own checks"}),
    ("fit", fit, _fit,
     {"model": "Module", "loss_fn": "callable", "data": "pair (X, y)",
      "optimizer": "Optimizer", "steps": "int ≥ 1", "epochs": "int ≥ 1",
      "batch_size": "int ≥ 1", "progress": "bool", "callback": "callable or None",
      "flow": "bool", "compile": "bool", "record": "int ≥ 0"},
     {"seed": "nn.data's seed checks (test_nn_train)"}),
    ("gradcheck", gradcheck, lambda **kw: gradcheck(**{"f": _square, "inputs": [1.0], **kw}),
     {"f": "callable", "inputs": "numbers", "eps": "finite > 0", "atol": "finite ≥ 0",
      "rtol": "finite ≥ 0", "second_order": "bool", "raise_exception": "bool"}, {}),
    ("numerical_gradient", numerical_gradient,
     lambda **kw: numerical_gradient(**{"f": _square, "inputs": [1.0], **kw}),
     {"f": "callable", "inputs": "numbers", "eps": "finite > 0"}, {}),
]


@pytest.mark.parametrize("label, fn, call, kinds, left", SUBJECTS, ids=[s[0] for s in SUBJECTS])
def test_every_parameter_has_a_row_or_a_reason(label, fn, call, kinds, left):
    params = [p for p in inspect.signature(fn).parameters if p != "self"]
    assert sorted(params) == sorted([*kinds, *left]), label
    assert all(kind in BAD for kind in kinds.values())


CASES = [(label, call, name, value, error)
         for label, _, call, kinds, _ in SUBJECTS
         for name, kind in kinds.items()
         for value, error in BAD[kind]]


@pytest.mark.parametrize("label, call, name, value, error", CASES,
                         ids=[f"{c[0]}-{c[2]}={c[3]!r}" for c in CASES])
def test_a_bad_argument_raises_naming_itself(label, call, name, value, error):
    with pytest.raises(error) as info:
        call(**{name: value})
    message = str(info.value)
    assert name in message, f"{label}({name}={value!r}): {message}"
    print(info.value, file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))  # it prints


@pytest.mark.parametrize("state, words", [
    ({0: 1.0}, "keys must be parameter names (str), got 0 (int)"),
    ({("a", 1): 1.0}, "got ('a', 1) (tuple)"),
    ({"\ud800": 1.0}, "unexpected '\\ud800'"),
    ({"a\nb": 1.0}, "unexpected 'a\\nb'"),
])
def test_bad_state_dict_keys_are_named_and_print(state, words):
    model = _model()
    before = model.state_dict()
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    assert words in str(info.value)
    print(info.value, file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert model.state_dict() == before


def test_an_unprintable_name_with_a_bad_value_is_escaped():
    model = MLP(1, [1], seed=0)
    state = dict.fromkeys(model.state_dict(), 1.0)
    name = next(iter(state))
    model.layers[0].neurons[0].__dict__["w\ud800"] = model.layers[0].neurons[0].__dict__.pop("w")
    state = {k.replace(".w.", ".w\ud800."): v for k, v in state.items()}
    state[next(iter(state))] = NAN
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    assert "\\ud800" in str(info.value) and name not in str(info.value)
    print(info.value, file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))


def test_fit_with_steps_true_runs_no_step():
    model = _model()
    before = model.state_dict()
    with pytest.raises(TypeError, match="steps must be an int ≥ 1 or None, got bool: True"):
        _fit(model=model, optimizer=SGD(model.parameters(), 0.1), steps=True)
    assert model.state_dict() == before


def test_train_mode_must_be_a_bool_and_changes_nothing_when_refused():
    model = _model().eval()
    with pytest.raises(TypeError, match="mode must be a bool, got str: 'invalid'"):
        model.train("invalid")
    assert not any(m.training for m in model.modules())


# --- nn's remaining numeric and flag arguments (issue 21) ---------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: nn.predict(0.3, threshold=float("nan")), ValueError, "threshold must be a finite"),
    (lambda: nn.predict(0.3, threshold="0"), TypeError, "threshold must be a number"),
    (lambda: nn.accuracy([0.3], [1], threshold=float("inf")), ValueError, "threshold"),
    (lambda: list(nn.minibatches(np.zeros((4, 2)), np.zeros(4), 2, shuffle="no")), TypeError,
     "shuffle must be a bool"),
    (lambda: nn.l2_regularization([Value(1.0)], alpha=float("nan")), ValueError,
     "alpha must be a finite"),
    (lambda: nn.l2_regularization([Value(1.0)], alpha=-1.0), ValueError, "alpha"),
    (lambda: nn.multiclass_hinge_loss([Value(1.0), Value(2.0)], 0, margin=float("nan")),
     ValueError, "margin must be a finite"),
    (lambda: nn.evaluate(3, lambda *a: None, np.zeros((2, 2)), np.ones(2)), TypeError,
     "model must be an nn Module"),
])
def test_nn_numbers_and_flags_are_checked_by_name(call, error, words):
    with pytest.raises(error, match=words):
        call()
