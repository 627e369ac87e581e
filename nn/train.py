"""The training loop: `fit` with a progress bar, objectives (loss + accuracy) and `accuracy`.

The contract between `fit` and a loss: a *loss function* is called as
`loss_fn(model, X_batch, y_batch)` and returns `(loss, accuracy)` — the loss as a Value to
differentiate, and the fraction of the batch the model gets right (None where accuracy means
nothing, e.g. regression). `objective(...)` builds one from any loss in `nn.losses`.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from autograd_core import Program, Value, collector_paused, compile, no_grad

from .data import RandomSeed, _random_state, minibatches
from .flow import FlowRecorder, LayerFlow
from .losses import l2_regularization
from .module import Module
from .optim import Optimizer, _check_number

LossFn = Callable[[Module, np.ndarray, np.ndarray], tuple[Value, float | None]]
Callback = Callable[[int, float, float | None], bool | None]


def _score(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def predict(output: Any, threshold: float = 0.0) -> int:
    """The class an output stands for: argmax of a list of scores; for one score, 1 if it is
    above `threshold` (0 for scores and logits, 0.5 for probabilities) and else 0."""
    threshold = _check_number("predict", "threshold", threshold, -math.inf)
    if isinstance(output, (Value, numbers.Real)):
        return int(_score(output) > threshold)
    scores = [_score(s) for s in output]
    return max(range(len(scores)), key=scores.__getitem__)


def accuracy(outputs: Sequence[Any], labels: Sequence[Any] | np.ndarray,
             threshold: float = 0.0) -> float:
    """The fraction of examples with predict(output) = label; binary labels may be 0/1 or ±1."""
    threshold = _check_number("accuracy", "threshold", threshold, -math.inf)
    if len(outputs) != len(labels):
        raise ValueError(f"accuracy got {len(outputs)} outputs but {len(labels)} labels")
    if len(outputs) == 0:
        raise ValueError("accuracy needs at least one example, got none")
    hits = 0
    for out, label in zip(outputs, labels):
        if isinstance(out, (Value, numbers.Real)):
            label = int(label > 0)  # ±1 and 0/1 labels both mean "positive" when > 0
        hits += predict(out, threshold) == label
    return hits / len(outputs)


@dataclass(frozen=True)
class Objective:
    """A loss function (model, X, y) ↦ (loss([model(x) for x in X], y) + alpha·Σθ², accuracy or
    None), in two parts so that a compiled step can replay the first and then take the second."""

    loss: Callable[[Any, Any], Value]
    alpha: float = 0.0
    classify: bool = True
    threshold: float = 0.0

    def __call__(self, model: Module, X: np.ndarray, y: np.ndarray
                 ) -> tuple[Value, float | None]:
        value, outputs = self.value_and_outputs(model, X, y)
        return value, self.accuracy(outputs, y)

    def value_and_outputs(self, model: Module, X: Any, y: np.ndarray) -> tuple[Value, list[Any]]:
        """The loss, and the model's output for each row of X."""
        outputs = [model(x) for x in X]
        value = self.loss(outputs, list(y))
        if self.alpha:
            value = value + l2_regularization(model.parameters(), self.alpha)
        return value, outputs

    def accuracy(self, outputs: Sequence[Any], y: np.ndarray) -> float | None:
        """The fraction of rows the outputs get right (None if this is not a classifier)."""
        return accuracy(outputs, y, self.threshold) if self.classify else None


def objective(loss: Callable[[Any, Any], Value], alpha: float = 0.0,
              classify: bool = True, threshold: float = 0.0) -> Objective:
    """The loss function (model, X, y) ↦ (loss([model(x) for x in X], y) + alpha·Σθ²,
    accuracy or None): e.g. objective(hinge_loss, alpha=1e-4) is micrograd's demo loss."""
    return Objective(loss, alpha, classify, threshold)


class CompiledLoss:
    """loss_fn(model, X, y) compiled (autograd_core.compile) with the weights and X's numbers
    as its arguments, the batch shape and labels static (one variant each, the `keep` newest
    kept): `gradients(X, y)` replays it and adds the gradient to every weight's grad, as
    backward would. compile's capture policy (trace_after=1) takes a batch's first step
    eagerly and traces it the second time, so batches that never repeat cost no compiling."""

    def __init__(self, model: Module, loss_fn: LossFn, keep: int = 16) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.params = model.parameters()
        self.program: Program = compile(self._batch_loss, has_aux=True, keep=keep,
                                        static_argnames=("shape", "y"), trace_after=1)

    def _batch_loss(self, *args: Value, shape: tuple[int, ...], y: np.ndarray
                    ) -> tuple[Value, list[Any]]:
        n = len(self.params)
        Xv: np.ndarray = np.empty(len(args) - n, dtype=object)
        Xv[:] = args[n:]
        Xv = Xv.reshape(shape)
        if isinstance(self.loss_fn, Objective):
            return self.loss_fn.value_and_outputs(self.model, Xv, y)
        return self.loss_fn(self.model, Xv, y)[0], []

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """The loss at the weights' current data, its gradient added to their grads, and the
        accuracy (a custom loss function's own, from a forward pass under no_grad)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        (loss, outputs), grads = self.program(*self.params, *X.ravel().tolist(), shape=X.shape,
                                              y=y)
        for p, g in zip(self.params, grads):
            p.grad += g
        if isinstance(self.loss_fn, Objective):
            return loss, self.loss_fn.accuracy(outputs, y)
        with no_grad():  # a custom loss computes its accuracy itself, from the model's outputs
            return loss, self.loss_fn(self.model, X, y)[1]


# tqdm's own format less the rate ("3.8it/s"): at 80 columns the bar keeps a dozen cells
# beside the loss and the accuracy.
BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


def _progress_bar() -> tuple[type[tqdm], Any]:
    """What tqdm.auto would pick: Jupyter's progress widget in a notebook (no pink stderr
    box), a text bar on stderr elsewhere; in a notebook without ipywidgets, the text bar on
    stdout (plain text in the cell) instead of a warning and a red stream."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return tqdm, None
    from tqdm import notebook

    if getattr(notebook, "IProgress", None) is None:  # no ipywidgets: no widget to show
        return tqdm, sys.stdout
    return notebook.tqdm, None


def _description(model: Module) -> str:
    """A progress bar's few words: "fit MLP 2-16-16-1", so that an 80-column terminal keeps
    room for the bar, the loss and the accuracy."""
    kind = type(model).__name__
    layers: Any = getattr(model, "layers", None)
    try:
        sizes = [len(layers[0].neurons[0].w)] + [len(layer.neurons) for layer in layers]
    except (TypeError, IndexError, AttributeError):
        return f"fit {kind}"
    return f"fit {kind} {'-'.join(map(str, sizes))}"


@dataclass
class History:
    """What fit() saw: per step the training loss, accuracy and learning rate (and, with
    flow=True, each layer's gradient flow); after training, the loss and accuracy on all of the
    data, evaluated under no_grad in eval mode."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    final_loss: float = math.nan
    final_accuracy: float | None = None
    # Last, so that positional History(loss, accuracy, lr, final_loss, ...) keeps its meaning.
    flow: list[tuple[LayerFlow, ...]] = field(default_factory=list)
    # With record=k: (step, every parameter's data in model.parameters() order) at steps 0, k,
    # 2k, ... and the last, taken before the step's update (the weights its loss was of).
    snapshots: list[tuple[int, tuple[float, ...]]] = field(default_factory=list)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no steps yet)"
        accuracy = ""
        if self.accuracy and self.accuracy[0] is not None and self.accuracy[-1] is not None:
            accuracy = f", accuracy {self.accuracy[0]:.0%} → {self.accuracy[-1]:.0%}"
        return (f"History({len(self.loss)} steps: loss {self.loss[0]:.4g} → "
                f"{self.loss[-1]:.4g}{accuracy}; lists .loss .accuracy .lr"
                f"{' .flow' if self.flow else ''}; nn.plot_loss(history) draws it)")

    def first_step_reaching(self, accuracy: float) -> int | None:
        """The first step whose training accuracy was ≥ accuracy, or None."""
        for step, acc in enumerate(self.accuracy):
            if acc is not None and acc >= accuracy:
                return step
        return None


def evaluate(model: Module, loss_fn: LossFn, X: np.ndarray, y: np.ndarray
             ) -> tuple[float, float | None]:
    """(loss, accuracy) on X, y under no_grad and in eval mode (the mode is restored after)."""
    if not isinstance(model, Module):
        raise TypeError(f"evaluate: model must be an nn Module, got {type(model).__name__}: "
                        f"{model!r}")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            loss, acc = loss_fn(model, X, y)
    finally:
        model.train(was_training)
    return loss.data, acc


def _batches(X: np.ndarray, y: np.ndarray, batch_size: int | None, seed: RandomSeed):
    """Endless (X_batch, y_batch): the whole set each time, or shuffled minibatches by epoch."""
    if batch_size is None:
        while True:
            yield X, y
    rng = _random_state(seed)
    while True:
        yield from minibatches(X, y, batch_size, seed=rng)


def fit(model: Module, loss_fn: LossFn, data: tuple[np.ndarray, np.ndarray],
        optimizer: Optimizer, steps: int | None = None, epochs: int | None = None,
        batch_size: int | None = None, progress: bool = True, callback: Callback | None = None,
        seed: RandomSeed = None, flow: bool = False, compile: bool = False,
        record: int = 0) -> History:
    """Train: per step, loss = loss_fn(model, batch) → zero_grad → backward → optimizer.step().

    Give `steps` or `epochs` (passes over the data). batch_size=None uses all of the data every
    step. callback(step, loss, accuracy) runs after each step; returning True stops training.
    flow=True records each layer's gradient flow per step in history.flow (an MLP's only).
    compile=True replays the loss as a compiled program (`CompiledLoss`): the same steps, one
    program per batch shape and labels, so it pays off when batches repeat (full batch);
    a batch seen only once is taken eagerly. record=k keeps the parameters every k-th step
    (and the last) in history.snapshots, for a scrubber over training (nn.scrubber).
    """
    # Every argument is checked before the first step: a bool is an int to Python, and
    # steps=True would silently run one step.
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a Module, got {type(model).__name__}")
    for name, fn in (("loss_fn", loss_fn), ("callback", callback)):
        if not callable(fn) and (fn is not None or name == "loss_fn"):
            raise TypeError(f"fit: {name} must be callable, got {type(fn).__name__}: {fn!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an Optimizer (SGD, Adam), got "
                        f"{type(optimizer).__name__}")
    for name, flag in (("progress", progress), ("flow", flow), ("compile", compile)):
        if not isinstance(flag, bool):
            raise TypeError(f"fit: {name} must be a bool, got {type(flag).__name__}: {flag!r}")
    for name, count in (("steps", steps), ("epochs", epochs), ("batch_size", batch_size)):
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise TypeError(f"fit: {name} must be an int ≥ 1 or None, got "
                            f"{type(count).__name__}: {count!r}")
        if count is not None and count < 1:
            raise ValueError(f"fit: {name} must be an int ≥ 1 or None, got {count!r}")
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"fit: data must be a pair (X, y), got {type(data).__name__}")
    X, y = data
    if len(X) != len(y):
        raise ValueError(f"data: X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("data is empty: fit needs at least one example")
    if (steps is None) == (epochs is None):
        raise ValueError(f"give exactly one of steps and epochs, got steps={steps!r}, "
                         f"epochs={epochs!r}")
    if epochs is not None:
        steps = epochs * math.ceil(len(X) / (batch_size or len(X)))
    assert steps is not None  # for type checkers: one of the two was given

    if isinstance(record, bool) or not isinstance(record, int):
        raise TypeError(f"record must be an int ≥ 0 (every record-th step; 0: none), got "
                        f"{type(record).__name__}: {record!r}")
    if record < 0:
        raise ValueError(f"record must be an int ≥ 0 (every record-th step; 0: none), got "
                         f"{record!r}")
    recorder = FlowRecorder(model) if flow else None  # a model it cannot read fails here
    compiled = CompiledLoss(model, loss_fn) if compile else None
    history = History()
    model.train()
    params = model.parameters() if record else []
    batches = _batches(X, y, batch_size, seed)
    bar_class, stream = _progress_bar()
    with bar_class(total=steps, disable=not progress, desc=_description(model), leave=True,
                   bar_format=BAR_FORMAT, file=stream) as bar:
        for step in range(steps):
            Xb, yb = next(batches)
            lr = optimizer.current_lr()
            if record and (step % record == 0 or step == steps - 1):
                history.snapshots.append((step, tuple(p.data for p in params)))
            with collector_paused():  # the step's nodes die before the collector runs
                optimizer.zero_grad()
                replayed = compiled.gradients(Xb, yb) if compiled is not None else None
                if replayed is None:
                    graph, acc = loss_fn(model, Xb, yb)
                    graph.backward()
                    loss = graph.data
                    del graph  # freed here by reference counting, while the collector sleeps
                else:
                    loss, acc = replayed
                if recorder is not None:
                    recorder.before_step(Xb)
                optimizer.step()
                if recorder is not None:
                    history.flow.append(recorder.after_step())
            history.loss.append(loss)
            history.accuracy.append(acc)
            history.lr.append(lr)
            shown = {"loss": f"{loss:.4f}"}
            if acc is not None:
                shown["acc"] = f"{acc:.0%}"
            bar.set_postfix(shown, refresh=False)
            bar.update(1)
            if callback is not None and callback(step, loss, acc):
                break
    history.final_loss, history.final_accuracy = evaluate(model, loss_fn, X, y)
    return history
