"""Grad modes and trace levels — the only mutable global state, per thread and asyncio task —
the anomaly detector and the collector pause: `no_grad`, `enable_grad`, `set_grad_enabled`,
`detect_anomaly`, `collector_paused`.
"""

from __future__ import annotations

import functools
import gc
import inspect
import linecache
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from types import FrameType
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
# The anomaly detector in this context (`detect_anomaly`), or None: like a trace, it is the grad
# mode's value while it is on, so apply reports each node it makes to it (and costs nothing off).
watcher: ContextVar[Any] = ContextVar("autograd_core.anomaly", default=None)


@contextmanager
def grad_mode(enabled: Any) -> Iterator[None]:
    if enabled is True:  # enable_grad inside a traced f or a detect_anomaly block: still watched
        observer = tracer.get()
        if observer is None:
            observer = watcher.get()
        if observer is not None:
            enabled = observer
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


# --- anomaly detection -----------------------------------------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # autograd_core/: frames of ours


class detect_anomaly:  # noqa: N801 (PyTorch's spelling)
    """Inside the block every node remembers where it was made, so a backward that fails names
    the line of yours that made the op (PyTorch's `torch.autograd.detect_anomaly`).

    Backward always checks for inf and NaN; what this adds is *where*. Use it around the
    forward pass and the backward (`with detect_anomaly(): loss = f(x); loss.backward()`); it
    costs a look at the stack per node, so leave it off for training. Inside a compiled
    function's trace the trace takes the nodes, and they are not remembered.
    """

    def __init__(self, frames: int = 3) -> None:
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise ValueError(f"detect_anomaly's frames needs an int >= 1, got {frames!r}")
        self.frames = frames
        self.sites: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()
        self._tokens: list[tuple[Any, Any]] = []  # a stack: the block may be re-entered

    def __enter__(self) -> detect_anomaly:
        mode = _grad_enabled.get()
        self._tokens.append((watcher.set(self), _grad_enabled.set(self if mode is True else mode)))
        return self

    def __exit__(self, *exc: Any) -> None:
        watch, mode = self._tokens.pop()
        _grad_enabled.reset(mode)
        watcher.reset(watch)

    def recorded(self, node: Any) -> None:
        """Remember the caller's frames outside autograd_core that made node (apply calls it)."""
        lines: list[str] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and len(lines) < self.frames:
            code = frame.f_code
            if not code.co_filename.startswith(_PACKAGE):  # grad's own frames say nothing
                text = linecache.getline(code.co_filename, frame.f_lineno).strip()
                lines.append(f'File "{code.co_filename}", line {frame.f_lineno}, in '
                             f'{code.co_name}' + (f": {text}" if text else ""))
            frame = frame.f_back
        self.sites[node] = lines


def made_at(node: Any) -> str:
    """Where the detector in this context saw node made, as lines to add to a message ("" if
    no detector is on, or it did not see node made)."""
    detector = watcher.get()
    lines = detector.sites.get(node) if detector is not None else None
    return "".join(f"\n  {line}" for line in ["the op was made at:", *lines]) if lines else ""


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


