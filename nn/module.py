"""Module: the base of every model — parameters by dotted name, train/eval, JSON checkpoints."""

from __future__ import annotations

import codecs
import json
import math
import numbers
import os
import reprlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd_core import Value
from autograd_core.files import read_regular, write_atomic

CHECKPOINT_FORMAT = "autograd-core.nn"
CHECKPOINT_VERSION = 1  # "architecture" was added later; files without it still load
MAX_CHECKPOINT_BYTES = 64 * 2**20
"""The default cap on a checkpoint file's size: about 1.5 million parameters at ~40 bytes each,
far beyond what a scalar engine trains; anything larger is refused before it is parsed."""
_SHOWN = 5  # how many offending names an error message lists before "and N more"
# A finite float has at most 309 integer digits; a longer integer is a tampered number (and
# Python refuses to parse one over 4300 digits with a message that names no file).
_MAX_INT_DIGITS = 400

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


class CheckpointError(ValueError):
    """A checkpoint or state dict does not fit the model; the model was left unchanged."""


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` found: parameters the state lacked, and names it has that the
    model does not (PyTorch's `_IncompatibleKeys`)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """A model: Values and sub-Modules held in attributes (or lists of them) are its parameters.

    Attributes whose names start with "_" are private and never walked.
    """

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def __call__(self, x: Any) -> Any:
        """forward(x) after the input is checked once: as in PyTorch, call the model, and
        define `forward`."""
        return self.forward(self.check_input(x))

    def forward(self, x: Any) -> Any:
        """The model's output for one (checked) input; every concrete Module defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward(x)")

    def check_input(self, x: Any) -> Any:
        """x as forward wants it, or an error naming the model; as given unless overridden."""
        return x

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

    def requires_grad_(self, flag: bool = True) -> Self:
        """Freeze (False) or unfreeze every parameter, as PyTorch's `module.requires_grad_`: a
        frozen parameter takes no gradient and optimizers leave it as it is. Returns self."""
        if not isinstance(flag, bool):
            raise TypeError(f"{type(self).__name__}.requires_grad_: flag must be a bool, got "
                            f"{type(flag).__name__}: {flag!r}")
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def frozen(self) -> list[str]:
        """The names of the parameters that take no gradient (frozen by requires_grad_)."""
        return [name for name, p in self.named_parameters() if not p.requires_grad]

    def train(self, mode: bool = True) -> Self:
        """Set `training` on self and every sub-module; returns self, for chaining."""
        if not isinstance(mode, bool):  # "eval" or 0 would otherwise set a truthy mode
            raise TypeError(f"{type(self).__name__}.train: mode must be a bool, got "
                            f"{type(mode).__name__}: {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Self:
        """train(False): evaluation mode; returns self."""
        return self.train(False)

    def architecture(self) -> list[str]:
        """"name: description" of self (named "(model)") and every sub-module, the description
        being its repr (its class name if it has no repr of its own): what a checkpoint of this
        model records and what `load` requires to match."""
        return [f"{name or '(model)'}: {_describe(module)}"
                for name, module in self.named_modules()]

    # --- checkpoints -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """{dotted name: data} for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Set each parameter's data from `state[name]`; returns the missing and unexpected
        names. strict=True (as PyTorch) refuses either kind; strict=False loads the names both
        share. Raises CheckpointError and changes nothing on a refusal or a non-finite value."""
        if not isinstance(state, Mapping):
            raise CheckpointError(f"a state dict must map names to numbers, got "
                                  f"{type(state).__name__}")
        if not isinstance(strict, bool):
            raise TypeError(f"load_state_dict: strict must be a bool, got "
                            f"{type(strict).__name__}: {strict!r}")
        not_names = [f"{key!r} ({type(key).__name__})" for key in state if not isinstance(key, str)]
        if not_names:
            raise CheckpointError(f"state dict keys must be parameter names (str), got "
                                  f"{_names(not_names)}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if strict and (missing or unexpected):
            raise CheckpointError(
                f"state dict does not fit {self!r} ({len(params)} parameters, the state has "
                f"{len(state)}): missing {_names(missing)}; unexpected {_names(unexpected)}")
        loaded = {name: state[name] for name in params if name in state}
        _check_numbers(loaded, "state dict values")
        # Everything was checked above, so from here on nothing can fail half way.
        for name, value in loaded.items():
            params[name].data = float(value)
        return IncompatibleKeys(missing, unexpected)

    def dumps(self) -> bytes:
        """The checkpoint `save` writes, as UTF-8 JSON: format, version, the model's repr and
        architecture, and every parameter. Raises CheckpointError for what `load` would refuse."""
        state = self.state_dict()
        try:
            _check_numbers(state, "parameters")
        except CheckpointError as err:
            raise CheckpointError(f"refusing to save {self!r}: {err}") from None
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": repr(self),
            "architecture": self.architecture(),
            "num_parameters": len(state),
            # repr(float) round-trips exactly, so save → load gives back the very same numbers.
            "parameters": {name: float(value) for name, value in state.items()},
            "frozen": self.frozen(),  # fine-tuning resumes with the same parameters frozen
        }
        return json.dumps(checkpoint, indent=1, allow_nan=False, ensure_ascii=False).encode()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write `dumps()` to path atomically (autograd_core.files.write_atomic), making its
        folder if needed; a model `load` would refuse is refused before the old file is touched."""
        return write_atomic(path, self.dumps(), make_folders=True)

    def load(self, path: str | os.PathLike[str], *,
             max_bytes: int = MAX_CHECKPOINT_BYTES) -> Self:
        """Read parameters saved by save(); raises CheckpointError and changes nothing if the file
        is not a regular file, is over max_bytes, truncated, tampered with or made for another
        architecture. Returns self."""
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
            raise TypeError(f"load: max_bytes must be an int, got {type(max_bytes).__name__}: "
                            f"{max_bytes!r}")
        if max_bytes < 1:
            raise ValueError(f"load: max_bytes must be ≥ 1, got {max_bytes!r}")
        try:
            data = read_regular(path, max_bytes)
        except ValueError as err:
            raise CheckpointError(f"cannot load {err}") from None
        checkpoint = _parse(data, path)
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path} is not an {CHECKPOINT_FORMAT} checkpoint")
        if checkpoint.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"{path} has checkpoint version {checkpoint.get('version')!r}; "
                                  f"this library reads version {CHECKPOINT_VERSION}")
        state = checkpoint.get("parameters")
        if not isinstance(state, dict):
            raise CheckpointError(f"{path} has no 'parameters' object")
        self._check_architecture(checkpoint, path)
        count = checkpoint.get("num_parameters")
        if count != len(state):
            raise CheckpointError(f"{path} says it holds {count!r} parameters but lists "
                                  f"{len(state)}")
        frozen = checkpoint.get("frozen", [])  # a file from before "frozen" froze nothing
        if not isinstance(frozen, list) or not all(isinstance(name, str) and name in state
                                                   for name in frozen):
            raise CheckpointError(f"{path} has a malformed 'frozen' (a list of its parameter "
                                  f"names), got {_shown(frozen)}")
        try:
            self.load_state_dict(state)
        except CheckpointError as err:
            raise CheckpointError(f"{path}: {err}") from None
        for name, p in self.named_parameters():
            p.requires_grad_(name not in frozen)
        return self

    def _check_architecture(self, checkpoint: dict[str, Any], path: Any) -> None:
        saved, model = checkpoint.get("architecture"), checkpoint.get("model")
        if saved is None:  # a checkpoint from before "architecture": its repr is all there is
            if _has_own_repr(self) and model != repr(self):
                raise CheckpointError(f"{path} holds {_shown(model)}, but this model is {self!r}")
            return
        if not isinstance(saved, list) or not all(isinstance(line, str) for line in saved):
            raise CheckpointError(f"{path} has a malformed 'architecture' (a list of strings)")
        ours = self.architecture()
        if saved != ours:
            detail = ""
            if saved[:1] == ours[:1]:  # the same repr: name the first sub-module that differs
                at = next(i for i, (a, b) in enumerate(zip([*saved, ""], [*ours, ""])) if a != b)
                theirs = saved[at] if at < len(saved) else "nothing"
                mine = ours[at] if at < len(ours) else "nothing"
                detail = f": the file has {theirs!r} where this model has {mine!r}"
            raise CheckpointError(f"{path} holds {_shown(model)}, but this model is "
                                  f"{self!r}{detail}")


def _describe(module: Module) -> str:
    return repr(module) if _has_own_repr(module) else type(module).__qualname__


def _has_own_repr(module: Module) -> bool:
    # object's repr holds an address, which differs from run to run.
    return type(module).__repr__ is not object.__repr__


def _parse(data: bytes, path: Any) -> Any:
    """The JSON document in data, strictly: UTF-8, no BOM, no duplicate keys, bounded depth."""
    if data.startswith(codecs.BOM_UTF8):
        raise CheckpointError(f"{path} starts with a UTF-8 byte-order mark (BOM); checkpoints "
                              f"are plain UTF-8 JSON: save it again without one")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CheckpointError(f"{path} is not UTF-8 text: byte {data[err.start]:#04x} at offset "
                              f"{err.start}") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except json.JSONDecodeError as err:
        at_end = not text[err.pos:].strip()
        hint = " (is it truncated?)" if at_end else ""
        raise CheckpointError(f"{path} is not a valid checkpoint{hint}: {err}") from None
    except RecursionError:
        raise CheckpointError(f"{path} is nested too deeply to be a checkpoint") from None
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys; in a checkpoint that hides a tampered value.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CheckpointError(f"key {key!r} appears twice")
        out[key] = value
    return out


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
        raise CheckpointError(f"an integer of {len(digits.lstrip('-'))} digits "
                              f"({digits[:12]}...) is no parameter; they must be finite numbers")
    return int(digits)


def _check_numbers(state: Mapping[str, Any], what: str) -> None:
    # reprlib shortens a tampered value such as a 400-digit int to a readable length.
    bad = [f"{_shown(name)}={reprlib.repr(value)}" for name, value in state.items()
           if not _is_finite_number(value)]
    if bad:
        raise CheckpointError(f"{what} must be finite numbers, got {_names(bad)}")


def _is_finite_number(x: Any) -> bool:
    # bool is an int in Python, but true/false in a checkpoint is a sign of tampering.
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float, e.g. 10**400 written out in full
        return False


def _shown(text: Any) -> str:
    """text as it is when it prints as itself, else its repr: a lone surrogate ("\\ud800", which
    JSON can carry) or a control character in a message would make print(err) raise or lie."""
    return text if isinstance(text, str) and text.isprintable() else repr(text)


def _names(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(_shown(item) for item in items[:_SHOWN])
    return shown if len(items) <= _SHOWN else f"{shown} and {len(items) - _SHOWN} more"
