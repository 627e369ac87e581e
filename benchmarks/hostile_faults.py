"""Hostile cases for issue 21's non-compile parts: run, count clean per category.

A case is clean when the failure is loud (the expected exception type, a message naming the
argument or parameter, printable) and leaves everything as it was — or, for a valid call, when
the answer is right. Run: .venv/bin/python benchmarks/hostile_faults.py [-v]
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograd_core import Value, files, gradcheck, numerical_gradient
from autograd_core.nn import (
    MLP,
    SGD,
    Adam,
    Neuron,
    fit,
    linear_schedule,
    make_moons,
    mse_loss,
    objective,
)

CASES: dict[str, list[tuple[str, Callable[[], bool]]]] = {}


def case(category: str) -> Callable[[Callable[[], bool]], Callable[[], bool]]:
    def register(fn: Callable[[], bool]) -> Callable[[], bool]:
        CASES.setdefault(category, []).append((fn.__name__, fn))
        return fn
    return register


def refuses(fn: Callable[[], Any], kinds: tuple[type[BaseException], ...], *words: str) -> bool:
    """fn raises one of kinds, printable, its message holding every word."""
    try:
        fn()
    except kinds as err:
        try:
            print(err, file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
            text = str(err)
        except Exception:
            return False
        return all(w in text for w in words)
    except BaseException:
        return False
    return False


ARG = (TypeError, ValueError)

# --- optimizers ------------------------------------------------------------------------------


def _snapshot(opt: Any, params: list[Value]) -> tuple[Any, ...]:
    state = {k: dict(v) for k, v in vars(opt).items() if isinstance(v, dict)}
    return [p.data for p in params], state, opt.steps


def _fails_cleanly(opt: Any, params: list[Value], *words: str) -> bool:
    before = _snapshot(opt, params)
    loud = refuses(opt.step, (ArithmeticError, ValueError), *words)
    return loud and _snapshot(opt, params) == before


@case("optimizers")
def sgd_huge_lr_second_param_overflows() -> bool:
    a, b = Value(1.0), Value(1.0)
    a.grad, b.grad = 1.0, 1e300
    return _fails_cleanly(SGD([a, b], lr=1e10), [a, b], "1")


@case("optimizers")
def sgd_momentum_does_not_store_the_failed_velocity() -> bool:
    a, b = Value(1.0), Value(1.0)
    a.grad, b.grad = 1.0, 1e300
    return _fails_cleanly(SGD([a, b], lr=1e10, momentum=0.9), [a, b])


@case("optimizers")
def sgd_momentum_overflows_over_steps() -> bool:
    a = Value(1.0)
    opt = SGD([a], lr=1e-300, momentum=0.9)
    a.grad = 1e308
    opt.step()
    return _fails_cleanly(opt, [a])


@case("optimizers")
def sgd_grad_with_a_graph_steps_by_its_number() -> bool:
    a = Value(3.0)
    (a * a).backward(create_graph=True)
    try:
        SGD([a], lr=0.5).step()
    except Exception:
        return False
    return a.data == 0.0


@case("optimizers")
def sgd_weight_decay_overflow() -> bool:
    a = Value(1e308)
    a.grad = 1e308
    return _fails_cleanly(SGD([a], lr=0.1, weight_decay=10.0), [a])


@case("optimizers")
def sgd_data_overflows_though_update_is_finite() -> bool:
    a = Value(1.7e308)
    a.grad = -1e308
    return _fails_cleanly(SGD([a], lr=1.0), [a])


@case("optimizers")
def adam_grad_1e160_does_not_freeze() -> bool:
    a, b = Value(1.0), Value(1.0)
    a.grad, b.grad = 1.0, 1e160
    return _fails_cleanly(Adam([a, b], lr=0.1), [a, b])


@case("optimizers")
def adam_grad_1e200() -> bool:
    a = Value(1.0)
    a.grad = 1e200
    return _fails_cleanly(Adam([a], lr=0.1), [a])


@case("optimizers")
def adam_huge_lr_overflows_the_parameter() -> bool:
    a = Value(1e308)
    a.grad = -1.0
    return _fails_cleanly(Adam([a], lr=1e308), [a])


@case("optimizers")
def adam_weight_decay_overflow() -> bool:
    a = Value(1e308)
    a.grad = 1.0
    return _fails_cleanly(Adam([a], lr=0.1, weight_decay=10.0), [a])


@case("optimizers")
def failed_step_then_good_step_is_right() -> bool:
    a = Value(1.0)
    opt = SGD([a], lr=0.5, momentum=0.9)
    a.grad, opt.lr = 1e300, 1e10
    with contextlib.suppress(Exception):
        opt.step()
    a.grad, opt.lr = 2.0, 0.5
    opt.step()
    return a.data == 0.0 and opt.steps == 1


@case("optimizers")
def error_names_the_parameter_by_model_name() -> bool:
    model = Neuron(2, seed=0)
    params = list(model.named_parameters())
    try:
        opt = SGD(params, lr=1e10)  # type: ignore[arg-type]
    except Exception:
        return False
    name, p = params[-1]
    p.grad = 1e300
    return _fails_cleanly(opt, [q for _, q in params], name)


# --- files -----------------------------------------------------------------------------------


def _with_patch(name: str, fake: Callable[..., Any]) -> contextlib.AbstractContextManager[Any]:
    @contextlib.contextmanager
    def patch() -> Any:
        real = getattr(os, name)
        setattr(os, name, fake(real))
        try:
            yield
        finally:
            setattr(os, name, real)
    return patch()


def _set_case(fail: Callable[[Path], contextlib.AbstractContextManager[Any]]) -> bool:
    """Three old files; write three new under fail; all old or all new, and no strays."""
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        paths = [folder / f"f{i}" for i in range(3)]
        for p in paths:
            p.write_bytes(b"old")
        with contextlib.suppress(BaseException), fail(folder):
            files.write_files({p: b"new" for p in paths})
        contents = {p.read_bytes() for p in paths}
        strays = sorted(x.name for x in folder.iterdir() if x not in paths)
        return len(contents) == 1 and not strays


def _link_denied(code: int) -> Callable[[Path], Any]:
    def fail(_: Path) -> Any:
        calls = {"replace": 0}

        def replace(real: Callable[..., Any]) -> Callable[..., Any]:
            def fake(*a: Any, **k: Any) -> Any:
                calls["replace"] += 1
                if calls["replace"] == 2:
                    raise OSError(errno.EIO, "Input/output error")
                return real(*a, **k)
            return fake

        def link(real: Callable[..., Any]) -> Callable[..., Any]:
            def fake(*a: Any, **k: Any) -> Any:
                raise OSError(code, os.strerror(code))
            return fake

        stack = contextlib.ExitStack()
        stack.enter_context(_with_patch("link", link))
        stack.enter_context(_with_patch("replace", replace))
        return stack
    return fail


for _code in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
    def _link_case(code: int = _code) -> bool:
        return _set_case(_link_denied(code))
    _link_case.__name__ = f"no_hard_links_{errno.errorcode[_code]}_then_rename_fails"
    case("files")(_link_case)


def _interrupt_at(name: str, n: int) -> Callable[[Path], Any]:
    def fail(_: Path) -> Any:
        calls = {"n": 0}

        def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
            def fake(*a: Any, **k: Any) -> Any:
                calls["n"] += 1
                if calls["n"] == n:
                    raise KeyboardInterrupt
                return real(*a, **k)
            return fake
        return _with_patch(name, wrap)
    return fail


for _name, _n in (("link", 1), ("link", 2), ("replace", 1), ("replace", 2), ("replace", 3),
                  ("fsync", 2), ("open", 3)):
    def _ctrl_c(name: str = _name, n: int = _n) -> bool:
        return _set_case(_interrupt_at(name, n))
    _ctrl_c.__name__ = f"ctrl_c_at_{_name}_{_n}"
    case("files")(_ctrl_c)


@case("files")
def ctrl_c_after_link_made_the_backup() -> bool:
    def fail(_: Path) -> Any:
        def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
            def fake(*a: Any, **k: Any) -> Any:
                real(*a, **k)
                raise KeyboardInterrupt  # arrives just after the backup link exists
            return fake
        return _with_patch("link", wrap)
    return _set_case(fail)


@case("files")
def replaced_file_keeps_owner_and_group() -> bool:
    if os.geteuid() != 0:
        return True
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f"
        p.write_bytes(b"old")
        os.chown(p, 12345, 23456)
        os.chmod(p, 0o640)
        files.write_atomic(p, b"new")
        st = p.stat()
        return (st.st_uid, st.st_gid, st.st_mode & 0o777) == (12345, 23456, 0o640)


# --- arguments -------------------------------------------------------------------------------

def _model() -> MLP:
    return MLP(2, [3, 1], seed=0)


def _fit(**kw: Any) -> Any:
    model = _model()
    X, y = make_moons(8, seed=0)
    args: dict[str, Any] = {"steps": 1, "progress": False}
    args.update(kw)
    return fit(model, objective(mse_loss), (X, y), SGD(model.parameters(), 0.1), **args)


ARG_CASES: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
    ("train('invalid')", lambda: _model().train("invalid"), ("mode",)),  # type: ignore[arg-type]
    ("train(1)", lambda: _model().train(1), ("mode",)),  # type: ignore[arg-type]
    ("load_state_dict({0: 1.0})", lambda: _model().load_state_dict({0: 1.0}), ("key", "0")),
    ("load_state_dict({'\\ud800': 1.0})",
     lambda: _model().load_state_dict({"\ud800": 1.0}), ("ud800",)),
    ("load_state_dict(strict='no')",
     lambda: _model().load_state_dict(_model().state_dict(), strict="no"), ("strict",)),
    ("load(max_bytes=True)", lambda: _model().load("x.json", max_bytes=True), ("max_bytes",)),
    ("fit(steps=True)", lambda: _fit(steps=True), ("steps",)),
    ("fit(steps=2.5)", lambda: _fit(steps=2.5), ("steps",)),
    ("fit(epochs=True)", lambda: _fit(steps=None, epochs=True), ("epochs",)),
    ("fit(batch_size=True)", lambda: _fit(batch_size=True), ("batch_size",)),
    ("fit(callback=3)", lambda: _fit(callback=3), ("callback",)),
    ("fit(compile='yes')", lambda: _fit(compile="yes"), ("compile",)),
    ("fit(progress='no')", lambda: _fit(progress="no"), ("progress",)),
    ("fit(optimizer=None)",
     lambda: fit(_model(), objective(mse_loss), make_moons(8, seed=0), None, steps=1),
     ("optimizer",)),
    ("SGD(lr=True)", lambda: SGD([Value(1.0)], lr=True), ("lr",)),
    ("SGD(lr='0.1')", lambda: SGD([Value(1.0)], lr="0.1"), ("lr",)),
    ("SGD(lr=nan)", lambda: SGD([Value(1.0)], lr=math.nan), ("lr",)),
    ("SGD(lr=inf)", lambda: SGD([Value(1.0)], lr=math.inf), ("lr",)),
    ("SGD(lr=-1)", lambda: SGD([Value(1.0)], lr=-1.0), ("lr",)),
    ("SGD(momentum=nan)", lambda: SGD([Value(1.0)], 0.1, momentum=math.nan), ("momentum",)),
    ("SGD(momentum=True)", lambda: SGD([Value(1.0)], 0.1, momentum=True), ("momentum",)),
    ("SGD(weight_decay=inf)",
     lambda: SGD([Value(1.0)], 0.1, weight_decay=math.inf), ("weight_decay",)),
    ("Adam(betas=(nan, .9))", lambda: Adam([Value(1.0)], betas=(math.nan, 0.9)), ("betas",)),
    ("Adam(betas=0.9)", lambda: Adam([Value(1.0)], betas=0.9), ("betas",)),
    ("Adam(eps=inf)", lambda: Adam([Value(1.0)], eps=math.inf), ("eps",)),
    ("Adam(eps='a')", lambda: Adam([Value(1.0)], eps="a"), ("eps",)),
    ("Adam(weight_decay=-1)",
     lambda: Adam([Value(1.0)], weight_decay=-1.0), ("weight_decay",)),
    ("SGD(lr=schedule → inf).step()",
     lambda: SGD([Value(1.0)], lr=lambda k: math.inf).step(), ("lr",)),
    ("SGD(lr=schedule → 'a').step()",
     lambda: SGD([Value(1.0)], lr=lambda k: "a").step(), ("lr",)),
    ("linear_schedule(steps=True)", lambda: linear_schedule(0.1, 0.01, True), ("steps",)),
    ("linear_schedule(start=nan)", lambda: linear_schedule(math.nan, 0.01, 5), ("start",)),
    ("linear_schedule(end=inf)", lambda: linear_schedule(0.1, math.inf, 5), ("end",)),
]


for _label, _call, _words in ARG_CASES:
    def _arg_case(call: Callable[[], Any] = _call, words: tuple[str, ...] = _words) -> bool:
        return refuses(call, ARG, *words)
    _arg_case.__name__ = _label
    case("nn arguments")(_arg_case)


def _square(x: Value) -> Value:
    return x * x


GRADCHECK_CASES: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
    ("gradcheck(eps='a')", lambda: gradcheck(_square, [1.0], eps="a"), ("eps",)),
    ("gradcheck(eps=True)", lambda: gradcheck(_square, [1.0], eps=True), ("eps",)),
    ("gradcheck(atol='x')", lambda: gradcheck(_square, [1.0], atol="x"), ("atol",)),
    ("gradcheck(atol=nan)", lambda: gradcheck(_square, [1.0], atol=math.nan), ("atol",)),
    ("gradcheck(rtol=inf)", lambda: gradcheck(_square, [1.0], rtol=math.inf), ("rtol",)),
    ("gradcheck(f=3)", lambda: gradcheck(3, [1.0]), ("f",)),
    ("gradcheck(inputs=5)", lambda: gradcheck(_square, 5), ("inputs",)),
    ("gradcheck(inputs=['a'])", lambda: gradcheck(_square, ["a"]), ("inputs",)),
    ("gradcheck(inputs=[nan])", lambda: gradcheck(_square, [math.nan]), ("inputs",)),
    ("gradcheck(second_order='yes')",
     lambda: gradcheck(_square, [1.0], second_order="yes"), ("second_order",)),
    ("numerical_gradient(eps='a')",
     lambda: numerical_gradient(_square, [1.0], eps="a"), ("eps",)),
    ("numerical_gradient(f=None)", lambda: numerical_gradient(None, [1.0]), ("f",)),
]

for _label, _call, _words in GRADCHECK_CASES:
    def _gc_case(call: Callable[[], Any] = _call, words: tuple[str, ...] = _words) -> bool:
        return refuses(call, ARG, *words)
    _gc_case.__name__ = _label
    case("gradcheck arguments")(_gc_case)


@case("gradcheck arguments")
def raise_exception_false_returns_false() -> bool:
    try:
        return gradcheck(lambda x: x * Value(x.data), [3.0], raise_exception=False) is False
    except BaseException:
        return False


@case("gradcheck arguments")
def raise_exception_false_returns_true_when_right() -> bool:
    try:
        return gradcheck(_square, [3.0], raise_exception=False) is True
    except BaseException:
        return False


def main() -> None:
    verbose = "-v" in sys.argv
    total_tried = total_clean = 0
    for category, cases in CASES.items():
        clean = 0
        for name, fn in cases:
            with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
                try:
                    ok = fn()
                except BaseException:
                    ok = False
            clean += ok
            if verbose and not ok:
                print(f"  not clean: {category}: {name}")
        total_tried += len(cases)
        total_clean += clean
        print(f"{category:22} {len(cases):3} tried, {clean:3} clean")
    print(f"{'total':22} {total_tried:3} tried, {total_clean:3} clean")


if __name__ == "__main__":
    main()
