"""The benchmark harness runs end to end and its engines agree (timings are never asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _quick(engines, *flags):
    """`benchmarks.run --quick` with these engines: its report, checked to have run and agreed."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--engines", engines, *flags],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Every engine that ran agrees" in proc.stdout
    return proc


def test_quick_benchmark_runs_and_engines_agree():
    proc = _quick("ours,ours-plain,ours-compiled,floats,numpy")
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


def test_jax_and_torch_vectorised_run_and_agree_with_the_others():
    pytest.importorskip("jax", reason="JAX is an optional extra: pip install 'autograd-core[jax]'")
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install "
                                        "'autograd-core[torch]'")
    proc = _quick("ours-compiled,floats,jax,torch-vectorised")
    assert "failed:" not in proc.stdout and "skipped" not in proc.stdout
    versions = proc.stdout.split("## Versions")[1].split("##")[0]
    assert "- jax: jax 0." in versions and "jaxlib" in versions
    assert "- torch-vectorised: 2." in versions
    compiled = [line for line in proc.stdout.splitlines() if line.startswith("| ours-compiled |")]
    assert compiled
    for line in compiled:  # the × jax ratio: last, but in the compile table 9th of 12 cells
        cells = [c.strip() for c in line.strip(" |").split("|")]
        compiling = cells[1] == "moons" or cells[1].startswith("chain ")
        assert (cells[8] if compiling else cells[-1]) != "—", line


def test_an_earlier_commit_runs_beside_this_tree_in_the_same_report():
    if subprocess.run(["git", "cat-file", "-e", "62f0dbe^{commit}"], cwd=ROOT,
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("this checkout has no history back to 62f0dbe (a shallow clone)")
    proc = _quick("ours,floats,ours@base", "--base", "62f0dbe")
    assert "- ours@base: commit 62f0dbe" in proc.stdout
    table = proc.stdout.split("### Against an earlier commit")[1].split("###")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ours |")]
    assert len(rows) == 1 and not rows[0].rstrip(" |").endswith("—")


def test_an_unknown_base_commit_is_refused_in_one_line():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--engines",
                           "floats", "--base", "no-such-commit"], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "--base no-such-commit: not a commit of this repository" in proc.stderr


def test_an_engine_whose_package_is_missing_is_skipped_in_one_line(tmp_path):
    # A jax that cannot be imported, put first on the path.
    (tmp_path / "jax").mkdir()
    (tmp_path / "jax" / "__init__.py").write_text(
        "raise ModuleNotFoundError('No module named jax', name='jax')\n")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", "jax", "moons", "20"],
                          cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert json.loads(proc.stdout) == {
        "skipped": "jax is not installed (`make bench` installs it)"}


def _run(seconds):
    return {"forward": [seconds], "backward": [0.0], "update": [0.0], "release": [0.0]}


def test_every_compiled_row_is_also_reported_as_times_jax():
    from benchmarks.run import QUICK, chain_table, compile_table, moons_table

    results = {
        "ours": {"moons": _run(0.05), "chain 1000": _run(0.002)},
        "ours-compiled": {"moons": _run(0.0004), "chain 1000": _run(0.0002),
                          "compile": {"moons": 0.3, "chains": {"1000": 0.01}}},
        "jax": {"moons": _run(0.0001), "chain 1000": _run(0.00001)},
    }
    moons = next(r for r in moons_table(results, 20) if r.startswith("| ours-compiled |"))
    assert moons.endswith("| 4.0 |")  # 0.4 ms ÷ 0.1 ms
    chain = next(r for r in chain_table(results, (1000,)) if r.startswith("| ours-compiled |"))
    assert chain.endswith("| 20.0 |")
    rows = [r for r in compile_table(results, QUICK) if r.startswith("| ours-compiled |")]
    assert "| 0.1 | 4.0 | — | — | — |" in rows[0] and "| 0.01 | 20.0 | — | — | — |" in rows[1]


def test_the_compile_table_gives_a_programs_bytes_per_node_beside_the_eager_graphs():
    from benchmarks.run import QUICK, compile_table

    results = {
        "ours": {"chain 1000": _run(0.002), "memory": {"binary_traced": 144.0}},
        "ours-compiled": {"chain 1000": _run(0.0002), "compile": {
            "moons": 0.3, "chains": {"1000": 0.01}, "held": {"1000": 96.4},
            "peak": {"1000": 310.0}}},
        "ours-compiled-jax": {"compile": {"moons": 1.5, "chains": {}}},
    }
    rows = compile_table(results, QUICK)
    chain = next(r for r in rows if r.startswith("| ours-compiled | chain 1000 |"))
    assert chain.endswith("| 96 | 310 | 144 |")
    assert [r for r in rows if r.startswith("| ours-compiled-jax |")] == [
        "| ours-compiled-jax | moons | 1.5 | — | — | — | — | — | — | — | — | — |"]


def test_without_jax_the_times_jax_column_says_so():
    from benchmarks.run import moons_table

    results = {"ours-compiled": {"moons": _run(0.0004)},
               "jax": {"moons": {"skipped": "jax is not installed"}}}
    rows = moons_table(results, 20)
    assert next(r for r in rows if r.startswith("| ours-compiled |")).endswith("| — |")
    assert "| jax | skipped: jax is not installed |" in "\n".join(rows)
