"""Grad modes and trace levels — the only mutable global state, per thread and asyncio task —
and the collector pause: `no_grad`, `enable_grad`, `set_grad_enabled`, `collector_paused`.
"""

from __future__ import annotations

import functools
import gc
import inspect
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# --- grad modes ----------------------------------------------------------------------------

# A ContextVar, not a threading.local: every thread starts in a context of its own, so the mode
# is per thread and per asyncio task; it is read for every node built. False under no_grad;
# True, or, while compile traces f, the trace itself (truthy): apply reports to it each node it
# records, so that an op whose result f never uses is replayed too (and fails as eager fails).
_grad_enabled: ContextVar[Any] = ContextVar("autograd_core.grad_enabled", default=True)
recording = _grad_enabled.get  # bound once: apply asks for every node it builds
# How many `grad`/`value_and_grad` calls are running in this context: inside one, an inner grad
# must build the graph of its result, so the outer one can differentiate it (a trace level).
grad_level: ContextVar[int] = ContextVar("autograd_core.grad_level", default=0)
# The trace in progress in this context (autograd_core.compile), or None: Value's comparisons
# report to it. Like the grad mode, per thread and per asyncio task.
tracer: ContextVar[Any] = ContextVar("autograd_core.tracer", default=None)
tracing = tracer.get


@contextmanager
def grad_mode(enabled: Any) -> Iterator[None]:
    if enabled is True and tracer.get() is not None:
        enabled = tracer.get()  # enable_grad inside a traced f: its nodes are f's, recorded
    token = _grad_enabled.set(enabled)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def _mode_decorator(enabled: bool, func: F) -> F:
    """func, run in the given grad mode: also across the awaits of a coroutine function."""
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        # A generator runs in its caller's context between resumptions: the mode cannot hold.
        raise TypeError(f"{func.__qualname__} is a generator: use `with` inside its body, "
                        f"around the code that must run without (or with) grad")
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with grad_mode(enabled):
                return await func(*args, **kwargs)
        return run_async  # type: ignore[return-value]

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with grad_mode(enabled):
            return func(*args, **kwargs)
    return run  # type: ignore[return-value]


class _GradMode:
    """A grad mode as `with mode:` or as a decorator `@mode` (sync or async functions)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._entered: list[AbstractContextManager[None]] = []  # a stack: `with` may nest

    def __enter__(self) -> None:
        cm = grad_mode(self.enabled)
        cm.__enter__()
        self._entered.append(cm)

    def __exit__(self, *exc: Any) -> None:
        self._entered.pop().__exit__(*exc)

    def __call__(self, func: F) -> F:
        return _mode_decorator(self.enabled, func)


def no_grad(func: F | None = None) -> Any:
    """Ops record nothing (results are leaves): `with no_grad():`, `@no_grad()` or `@no_grad`."""
    return _GradMode(False) if func is None else _mode_decorator(False, func)


def enable_grad(func: F | None = None) -> Any:
    """Ops record the graph again, even inside no_grad: `with`, `@enable_grad()` or bare."""
    return _GradMode(True) if func is None else _mode_decorator(True, func)


def is_grad_enabled() -> bool:
    """True unless inside `no_grad` (per thread and asyncio task)."""
    return bool(_grad_enabled.get())


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's spelling)
    """Set the grad mode: as a call (`set_grad_enabled(False)`), or `with set_grad_enabled(m):`.

    As a call it sets the mode for the rest of this thread or task (as PyTorch); as a
    context manager it restores the mode it found when the block ends.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled needs a bool, got {type(mode).__name__}: {mode!r}")
        super().__init__(mode)
        self._previous = _grad_enabled.get()
        _grad_enabled.set(mode)

    def __enter__(self) -> None:
        pass  # the mode was set by the call; the block only has to restore it

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.set(self._previous)


# --- the cycle collector ----------------------------------------------------------------------

_collector_lock = threading.Lock()
_collector_pauses = 0  # pauses in progress, over every thread
_collector_was_enabled = False  # the state the first pause found


@contextmanager
def pause_collector() -> Iterator[None]:
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
        _collector_pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


def collector_paused(func: F | None = None) -> Any:
    """Pause CPython's cycle collector in this block (or decorated function), then restore it.

    Our graphs hold no reference cycles, so reference counting frees them, yet while a graph is
    alive the collector keeps rescanning its nodes. Wrap a whole step (build, backward, update,
    drop the graph) so its nodes die before the collector wakes; `fit`, `grad` and
    `value_and_grad` do. The pause is process-wide, like `gc.disable`, and counted: the last
    pause to end, in any thread, restores the state the first one found.
    """
    if func is None:
        return pause_collector()

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with pause_collector():
            return func(*args, **kwargs)
    return run


