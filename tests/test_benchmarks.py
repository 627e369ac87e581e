"""The benchmark harness runs end to end and its engines agree (timings are never asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_engines_agree():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick",
         "--engines", "ours,ours-plain,ours-compiled,floats,numpy"],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Every engine that ran agrees" in proc.stdout
    for workload in ("Moons training step", "Chain", "Memory", "Compiling"):
        assert workload in proc.stdout
    assert "failed:" not in proc.stdout


def test_rounds_pool_their_runs_and_a_failure_wins():
    from benchmarks.run import pool

    first = {"forward": [1.0], "backward": [2.0], "value": 3.0}
    pooled = pool(first, {"forward": [4.0], "backward": [5.0], "value": 3.0})
    assert pooled == {"forward": [1.0, 4.0], "backward": [2.0, 5.0], "value": 3.0}
    assert pool({}, first) is first
    assert pool(pooled, {"error": "exit code 1: boom"}) == {"error": "exit code 1: boom"}
