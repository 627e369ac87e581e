"""Trace once, replay as a program: `compile(f, *example_args)` runs f on Values once, records
its tape (trace), runs named passes over it (passes, matmul) and replays f and its gradient at
new arguments (numbers, or numpy arrays of them: a batch) without building nodes (execute,
program). Comparisons on Values made while tracing are guards: a replay where one comes out
differently retraces (or, with strict=True, raises GuardError naming it and its source line)."""

from .program import MAX_TRACES, GuardError, Program, compile
from .tape import Eqn, Guard, Tape

__all__ = ["MAX_TRACES", "Eqn", "GuardError", "Guard", "Program", "Tape", "compile"]
