"""The benchmark harness runs end to end and its engines agree (timings are never asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_engines_agree():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick",
         "--engines", "ours,ours-plain,floats,numpy"],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Every engine that ran agrees" in proc.stdout
    for workload in ("Moons training step", "Chain", "Memory"):
        assert workload in proc.stdout
    assert "failed:" not in proc.stdout
