"""autograd-core as it was at an earlier commit, run exactly as `ours` runs it: the same-run
anchor for the engine's own speed (`make bench BASE=<commit>`).

`benchmarks.run --base COMMIT` writes that commit's autograd_core into a temporary folder and
names it in BENCH_BASE_TREE; this module puts it first on the path, so the workloads below
import the old package. Only APIs every version has are used (Value, operators, relu,
backward, topological_order, collector_paused).
"""

from __future__ import annotations

import os
import sys

_TREE = os.environ.get("BENCH_BASE_TREE")
if not _TREE:
    raise ImportError("no earlier commit to compare with (run with --base COMMIT)",
                      name="an earlier commit")
sys.path.insert(0, _TREE)

from .ours import Ours, OursPlain  # noqa: E402 — after the path names the old package

_COMMIT = os.environ.get("BENCH_BASE_COMMIT", "?")


class Base(Ours):
    """The earlier commit, each workload inside collector_paused(), as `ours`."""

    name = "ours@base"

    def version(self) -> str:
        """The commit measured."""
        return f"commit {_COMMIT}"


class BasePlain(OursPlain):
    """The earlier commit in a bare loop with the collector running, as `ours-plain`."""

    name = "ours-plain@base"

    def version(self) -> str:
        """The commit measured."""
        return f"commit {_COMMIT}"


ENGINE = Base()
