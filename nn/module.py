"""Module: the base of every model — parameters by dotted name, train/eval, JSON checkpoints."""

from __future__ import annotations

import json
import math
import numbers
import os
import reprlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd_core import Value

from ._io import atomic_write

CHECKPOINT_FORMAT = "autograd-core.nn"
CHECKPOINT_VERSION = 1
_SHOWN = 5  # how many offending names an error message lists before "and N more"

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


class CheckpointError(ValueError):
    """A checkpoint or state dict does not fit the model; the model was left unchanged."""


class Module:
    """A model: Values and sub-Modules held in attributes (or lists of them) are its parameters.

    Attributes whose names start with "_" are private and never walked.
    """

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def __call__(self, x: Any) -> Any:
        """The model's output for one input; every concrete Module defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define __call__(x)")

    def _walk(self) -> Iterator[tuple[str, Module | Value]]:
        """Every sub-Module and Value once, depth first in attribute order, with dotted names."""
        # An explicit stack instead of recursion, and a seen-set so that a shared parameter
        # (or a module referring back to its parent) is visited once.
        seen: set[int] = set()
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            name, obj = stack.pop()
            if isinstance(obj, (Module, Value)):
                if id(obj) in seen:
                    continue
                seen.add(id(obj))
                yield name, obj
                if isinstance(obj, Value):
                    continue
                items = [(key, child) for key, child in vars(obj).items()
                         if not key.startswith("_")]
            elif isinstance(obj, (list, tuple)):
                items = [(str(i), child) for i, child in enumerate(obj)]
            else:
                continue
            prefix = f"{name}." if name else ""
            stack.extend((prefix + key, child) for key, child in reversed(items))

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for self (named "") and every sub-module."""
        for name, obj in self._walk():
            if isinstance(obj, Module):
                yield name, obj

    def modules(self) -> list[Module]:
        """Self and every sub-module."""
        return [module for _, module in self.named_modules()]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, e.g. ("layers.0.neurons.1.w.2", w)."""
        for name, obj in self._walk():
            if isinstance(obj, Value):
                yield name, obj

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many scalars the model learns."""
        return sum(1 for _ in self.named_parameters())

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Self:
        """Set `training` on self and every sub-module; returns self, for chaining."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Self:
        """train(False): evaluation mode; returns self."""
        return self.train(False)

    def _label_parameters(self) -> None:
        # Each parameter is labelled with its dotted name, so drawings of the graph are readable.
        # Outer constructors call this again and overwrite the inner, shorter names.
        for name, p in self.named_parameters():
            p.label = name

    # --- checkpoints -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """{dotted name: data} for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter's data from `state`; raises CheckpointError and changes nothing if
        any name is missing or unexpected or any value is not a finite number."""
        if not isinstance(state, Mapping):
            raise CheckpointError(f"a state dict must map names to numbers, got "
                                  f"{type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing or unexpected:
            raise CheckpointError(
                f"state dict does not fit {self!r} ({len(params)} parameters, the state has "
                f"{len(state)}): missing {_names(missing)}; unexpected {_names(unexpected)}")
        # reprlib shortens a tampered value such as a 400-digit int to a readable length.
        bad = [f"{name}={reprlib.repr(value)}" for name, value in state.items()
               if not _is_finite_number(value)]
        if bad:
            raise CheckpointError(f"state dict values must be finite numbers, got {_names(bad)}")
        # Everything was checked above, so from here on nothing can fail half way.
        for name, p in params.items():
            p.data = float(state[name])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters to `path` as JSON, atomically (temp file + rename)."""
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": repr(self),
            "num_parameters": self.num_parameters(),
            "parameters": self.state_dict(),
        }
        # repr(float) round-trips exactly, so save → load gives back the very same numbers.
        return atomic_write(path, lambda f: json.dump(checkpoint, f, indent=1, allow_nan=False))

    def load(self, path: str | os.PathLike[str]) -> Self:
        """Read parameters saved by save(); raises CheckpointError and changes nothing if the file
        is truncated, tampered with or made for another model. Returns self."""
        try:
            checkpoint = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CheckpointError(f"{path} is not a valid checkpoint (is it truncated?): "
                                  f"{err}") from None
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path} is not an {CHECKPOINT_FORMAT} checkpoint")
        if checkpoint.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"{path} has checkpoint version {checkpoint.get('version')!r}; "
                                  f"this library reads version {CHECKPOINT_VERSION}")
        state = checkpoint.get("parameters")
        if not isinstance(state, dict):
            raise CheckpointError(f"{path} has no 'parameters' object")
        count = checkpoint.get("num_parameters")
        if count != len(state):
            raise CheckpointError(f"{path} says it holds {count!r} parameters but lists "
                                  f"{len(state)}")
        try:
            self.load_state_dict(state)
        except CheckpointError as err:
            raise CheckpointError(f"{path}: {err}") from None
        return self


def _is_finite_number(x: Any) -> bool:
    # bool is an int in Python, but true/false in a checkpoint is a sign of tampering.
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float, e.g. 10**400 written out in full
        return False


def _names(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:_SHOWN])
    return shown if len(items) <= _SHOWN else f"{shown} and {len(items) - _SHOWN} more"
