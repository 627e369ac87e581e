"""Run every workload on every engine, each in a fresh process, check they agree, write a report.

`python -m benchmarks.run` writes benchmarks/RESULTS.md; `--quick` runs each workload once at a
small size and prints the report (engines whose package is missing are skipped, and said so).
Exits 1 if any engine's numbers disagree with the plain-float reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runs import PARTS
from .worker import ENGINES

RTOL = 1e-12  # agreement required of every engine, relative to the largest reference number
REFERENCE = "floats"
LIMIT = "numpy"
FASTEST = "jax"  # what a user who wants this fast would pick: every row is also compared to it
# an engine that compiles, and the eager engine it replays
COMPILERS = {"ours-compiled": "ours", "ours-compiled-jax": "ours",
             "ours-compiled-reassociate": "ours", "ours-compiled-jax-reassociate": "ours"}
ANCHOR = "micrograd"
BASES = {"ours": "ours@base", "ours-plain": "ours-plain@base"}  # an engine and itself earlier
HERE = Path(__file__).resolve().parent


@dataclass
class Config:
    """Sizes and repetitions of one benchmark run."""

    chain_sizes: tuple[int, ...]
    chain_repeat: dict[int, int]
    moons_points: int
    moons_repeat: int
    memory_nodes: int
    peak_chain: int
    budget: float  # seconds of repeats per measurement before stopping early
    timeout: float  # seconds before a worker is given up on
    processes: int  # fresh processes that share a timed measurement's repeats
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


FULL = Config((10**3, 10**4, 10**5, 10**6), {10**3: 21, 10**4: 11, 10**5: 7, 10**6: 5},
              100, 11, 100_000, 10**6, 30.0, 900.0, 3)
QUICK = Config((10**3,), {10**3: 1}, 20, 1, 1_000, 10**4, 0.0, 300.0, 1)


def worker(engine: str, task: str, size: int, *args: str, timeout: float) -> dict[str, Any]:
    """Run one task in a fresh interpreter; its JSON, or {"error": ...} if it died."""
    cmd = [sys.executable, "-m", "benchmarks.worker", engine, task, str(size), *args]
    print(f"  {engine:9} {task} {size}", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout,
                              cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pool(into: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """Another process's runs of the same task added to `into` (a failure or skip wins)."""
    if not into or status(run) is not None:
        return run
    for part in PARTS:
        if part in into:
            into[part] = into[part] + run[part]
    return into


ROWS = ("chain", "moons", "memory", "peak", "compile")


def measure(cfg: Config, engines: list[str], rows: tuple[str, ...] = ROWS
            ) -> dict[str, dict[str, Any]]:
    """results[engine][workload] for every engine and workload.

    Timed tasks run in cfg.processes rounds, each round going through every engine, each run
    in a fresh process: this shared machine has slow spells lasting minutes, and one process
    can be 2× slower than the next for its whole life, so every engine samples every part of
    the run and no single process decides a median or a ratio.
    """
    results: dict[str, dict[str, Any]] = {engine: {} for engine in engines}
    timed = [(f"chain {n}", "chain", n, cfg.chain_repeat.get(n, 5)) for n in cfg.chain_sizes
             if "chain" in rows]
    if "moons" in rows:
        timed.append(("moons", "moons", cfg.moons_points, cfg.moons_repeat))
    for _ in range(cfg.processes):
        for engine, res in results.items():
            for name, task, size, repeat in timed:
                if any("skipped" in run for run in res.values()):
                    break  # not installed
                if "error" in res.get(name, {}) or "not_run" in res.get(name, {}):
                    continue  # failed once, or not the engine's workload: enough
                share = -(-repeat // cfg.processes)  # ceil: at least the runs asked for
                res[name] = pool(res.get(name, {}), worker(
                    engine, task, size, "--repeat", str(share),
                    "--budget", str(cfg.budget / cfg.processes), timeout=cfg.timeout))
    for engine, res in results.items():
        skipped = next((run for run in res.values() if "skipped" in run), None)
        if skipped is not None:  # not installed: say so in every table
            res.update({name: skipped for name in (*(t[0] for t in timed), "memory", "peak")})
            continue
        if "memory" in rows:
            res["memory"] = worker(engine, "memory", cfg.memory_nodes, "--points",
                                   str(cfg.moons_points), timeout=cfg.timeout)
        if "peak" in rows:
            res["peak"] = worker(engine, "peak", cfg.peak_chain, timeout=cfg.timeout)
        if engine in COMPILERS and "compile" in rows:
            res["compile"] = worker(engine, "compile", cfg.moons_points, "--sizes",
                                    ",".join(map(str, cfg.chain_sizes)), timeout=cfg.timeout)
    return results


def disagreements(results: dict[str, dict[str, Any]]) -> list[str]:
    """Every engine's chain and moons numbers against the float reference, to RTOL."""
    ref = results.get(REFERENCE, {})
    problems = []
    for engine, res in results.items():
        for name, run in res.items():
            base = ref.get(name, {})
            if engine == REFERENCE or status(run) is not None or "error" in base:
                continue
            keys = ("value", "grad") if name.startswith("chain") else ("loss", "grads")
            if keys[0] not in run or keys[0] not in base:
                continue
            ours = [run[keys[0]], *_list(run[keys[1]])]
            want = [base[keys[0]], *_list(base[keys[1]])]
            scale = max(abs(v) for v in want) or 1.0
            worst = max(abs(a - b) for a, b in zip(ours, want)) / scale
            if len(ours) != len(want) or worst > RTOL:
                problems.append(f"{engine} {name}: differs from {REFERENCE} by {worst:.1e} "
                                f"(relative to the largest number; allowed {RTOL:.0e})")
    return problems


def _list(x: Any) -> list[float]:
    return x if isinstance(x, list) else [x]


# --- the report ---------------------------------------------------------------------------

def machine() -> list[str]:
    """CPU model, cores, Python, OS."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    python = f"{platform.python_version()} ({platform.python_implementation()})"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [f"- CPU: {cpu}, {os.cpu_count()} cores; load average at the end {load}",
            f"- Python {python}, {platform.system()} {platform.release()}"]


def times(run: dict[str, Any], parts: tuple[str, ...]) -> list[float]:
    """Per run, the sum of the given parts' times."""
    return [sum(ts) for ts in zip(*(run[p] for p in parts))]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}" if seconds < 1.0 else f"{seconds * 1e3:,.0f}"


def status(run: dict[str, Any] | None) -> str | None:
    """Why there is no number: skipped, failed or not run; None when there is one."""
    if run is None:
        return "not run"
    if "skipped" in run:
        return f"skipped: {run['skipped']}"
    if "error" in run:
        return f"failed: {run['error']}"
    if "not_run" in run:
        return f"not run: {run['not_run']}"
    return None


def moons_table(results: dict[str, dict[str, Any]], points: int) -> list[str]:
    """Step times (ms) with ratios to micrograd, to plain floats and to numpy."""
    med = {e: statistics.median(times(r["moons"], PARTS)) for e, r in results.items()
           if status(r.get("moons")) is None}
    rows = [f"### Moons training step ({points} points, MLP(2, [16, 16, 1]), hinge + L2)", "",
            ("Milliseconds per step, median (min) of the runs; nodes = graph size of one step; "
             "`release` = dropping the step's graph, as a training loop does. "
             "`× micrograd` = how many times faster than micrograd; `× floats` = how many times "
             "slower than plain floats (the floor); `× numpy` = how many times slower than "
             "hand-vectorised numpy (the limit of the computation); `× jax` = how many times "
             "slower than the hand-written step in `jax.jit`."), "",
            "| engine | nodes | forward | backward | update | release | step | runs "
            "| × micrograd | × floats | × numpy | × jax |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for engine, res in results.items():
        run = res.get("moons")
        why = status(run)
        if why is not None:
            rows.append(f"| {engine} | {why} ||||||||||")
            continue
        assert run is not None
        cells = [f"{fmt_ms(statistics.median(run[p]))} ({fmt_ms(min(run[p]))})" for p in PARTS]
        total = times(run, PARTS)
        nodes = res.get("memory", {}).get("graph_nodes") or "—"
        rows.append(f"| {engine} | {nodes} | {' | '.join(cells)} | "
                    f"**{fmt_ms(med[engine])}** ({fmt_ms(min(total))}) | {len(total)} | "
                    f"{_ratio(med.get(ANCHOR), med[engine])} | "
                    f"{_ratio(med[engine], med.get(REFERENCE))} | "
                    f"{_ratio(med[engine], med.get(LIMIT))} | "
                    f"{_ratio(med[engine], med.get(FASTEST))} |")
    return rows


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}" if a and b else "—"


def chain_table(results: dict[str, dict[str, Any]], sizes: tuple[int, ...]) -> list[str]:
    """Nanoseconds per op node (2 per step), forward and backward, and growth with size."""
    rows = ["### Chain y = y·1.0001 + 0.0001", "",
            ("Nanoseconds per op node (2 per step: a mul and an add), median (min). "
             "`growth` = total per node at this size ÷ at the smallest size, same engine; "
             "`× jax` = how many times slower than the chain as a `jax.jit`-ed loop."), "",
            ("| engine | steps | forward | backward | total | growth | × micrograd | × floats "
             "| × jax |"),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    per_node: dict[tuple[str, int], float] = {}
    for engine, res in results.items():
        for n in sizes:
            run = res.get(f"chain {n}")
            if status(run) is None:
                assert run is not None
                per_node[engine, n] = statistics.median(times(run, ("forward", "backward"))) / (
                    2 * n)
    for engine, res in results.items():
        for n in sizes:
            run = res.get(f"chain {n}")
            why = status(run)
            if why is not None:
                rows.append(f"| {engine} | {n:,} | {why} |||||||")
                continue
            assert run is not None
            cells = [f"{statistics.median(run[p]) / (2 * n) * 1e9:,.0f} "
                     f"({min(run[p]) / (2 * n) * 1e9:,.0f})" for p in ("forward", "backward")]
            total = per_node[engine, n]
            first = per_node.get((engine, sizes[0]))
            rows.append(f"| {engine} | {n:,} | {' | '.join(cells)} | **{total * 1e9:,.0f}** | "
                        f"{_ratio(total, first)} | {_ratio(per_node.get((ANCHOR, n)), total)} | "
                        f"{_ratio(total, per_node.get((REFERENCE, n)))} | "
                        f"{_ratio(total, per_node.get((FASTEST, n)))} |")
    return rows


def memory_table(results: dict[str, dict[str, Any]], cfg: Config) -> list[str]:
    """Bytes per node and the peak of the long chain."""
    rows = ["### Memory", "",
            (f"`a·b`: bytes per product node, averaged over {cfg.memory_nodes:,} of them "
             "(tracemalloc sees Python's heap; RSS also sees torch's C++ heap). `moons graph`: "
             "what one forward pass holds (tracemalloc). `chain peak`: the peak resident memory "
             f"that building and backpropagating a {cfg.peak_chain:,}-step chain adds."), "",
            ("| engine | a·b traced B/node | a·b RSS B/node | moons graph MB | moons B/node | "
             "chain peak MB | chain peak B/op node |"),
            "|---|---:|---:|---:|---:|---:|---:|"]
    for engine, res in results.items():
        mem, peak = res.get("memory"), res.get("peak")
        cells = []
        why = status(mem)
        if why is None:
            assert mem is not None
            nodes = mem["graph_nodes"]
            per = f"{mem['graph_traced'] / nodes:,.0f}" if nodes else "—"
            cells += [f"{mem['binary_traced']:,.0f}", f"{mem['binary_rss']:,.0f}",
                      f"{mem['graph_traced'] / 1e6:.2f}", per]
        else:
            cells += [why, "", "", ""]
        why = status(peak)
        if why is None:
            assert peak is not None
            cells += [f"{peak['peak_bytes'] / 1e6:,.1f}",
                      f"{peak['peak_bytes'] / (2 * cfg.peak_chain):,.0f}"]
        else:
            cells += [why, ""]
        rows.append(f"| {engine} | {' | '.join(cells)} |")
    return rows


def compile_table(results: dict[str, dict[str, Any]], cfg: Config) -> list[str]:
    """What compiling costs, and after how many replays it has paid for itself."""
    rows = ["### Compiling", "",
            ("Seconds to compile a workload once (trace it on Values, build the program, first "
             "replay); `saves` = the eager engine's time per step (or chain run) minus the "
             "compiled one's; `pays off after` = compile time ÷ saves, in steps; `jax ms` = the "
             "same workload `jax.jit`-ed, and `× jax` = compiled ms ÷ jax ms. `program B/node`: "
             "the bytes a compiled chain's program holds per op node after its first call, "
             "and `peak B/node` the peak while compiling it (tracemalloc, in a second compile); "
             "`eager B/node` = what the eager engine's graph holds per node (the `a·b traced` "
             "column of the memory table). The moons program's bytes: `moons B/node` in the "
             "memory table."), "",
            ("| engine | workload | compile s | eager ms | compiled ms | saves ms "
             "| pays off after | jax ms | × jax | program B/node | peak B/node | eager B/node |"),
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for engine, eager in COMPILERS.items():
        run = results.get(engine, {}).get("compile")
        if status(run) is not None or engine not in results:
            rows.append(f"| {engine} | {status(run)} |||||||||||")
            continue
        assert run is not None
        work = [("moons", "", run["moons"], PARTS)] + [
            (f"chain {n}", str(n), run["chains"][str(n)], ("forward", "backward"))
            for n in cfg.chain_sizes if str(n) in run["chains"]]
        memory = results.get(eager, {}).get("memory")
        per_node = f"{memory['binary_traced']:,.0f}" if memory and status(memory) is None \
            else "—"
        for name, n, seconds, parts in work:
            a, b, c = (_median(results.get(e, {}).get(name), parts)
                       for e in (eager, engine, FASTEST))
            held, top = run.get("held", {}).get(n), run.get("peak", {}).get(n)
            sizes = (f"{held:,.0f} | {top:,.0f} | {per_node}" if held is not None
                     else "— | — | —")
            if b is None:
                rows.append(f"| {engine} | {name} | {seconds:.3g} | — | — | — | — | — | — | "
                            f"{sizes} |")
                continue
            saves, pays = "—", "—"
            if a is not None:
                saves = fmt_ms(a - b)
                pays = f"{math.ceil(seconds / (a - b)):,}" if a > b else "never"
            rows.append(f"| {engine} | {name} | {seconds:.3g} | "
                        f"{fmt_ms(a) if a is not None else '—'} | {fmt_ms(b)} | {saves} | "
                        f"{pays} | {fmt_ms(c) if c is not None else '—'} | {_ratio(b, c)} | "
                        f"{sizes} |")
    return rows


def _median(run: dict[str, Any] | None, parts: tuple[str, ...]) -> float | None:
    """The median time of the run's parts, or None if there is no run to read."""
    if run is None or status(run) is not None:
        return None
    return statistics.median(times(run, parts))


def report(results: dict[str, dict[str, Any]], cfg: Config, problems: list[str],
           seconds: float, command: str) -> str:
    """The whole markdown report."""
    versions = []
    for engine, res in results.items():
        found = [r["version"] for r in res.values() if "version" in r]
        skipped = [r["skipped"] for r in res.values() if "skipped" in r]
        said = (found[0] if found else "skipped: " + skipped[0] if skipped
                else "not run: no row of this run times it")  # e.g. --rows compile
        versions.append(f"- {engine}: {said}")
    agree = ("Every engine that ran agrees with plain floats on the chain values and gradients "
             f"and on the moons loss and all 337 gradients, to {RTOL:.0e} relative (checked "
             "before the timed runs).")
    check = [agree] if not problems else ["**Disagreements:**", "", *[f"- {p}" for p in problems]]
    if REFERENCE not in results:
        check = [f"Not checked: {REFERENCE}, the reference, was not run."]
    lines = ["# Benchmark results", "",
             (f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
              f"in {seconds / 60:.1f} min. Times are CPU time of the calling thread (the "
              "machine is shared: wall time swings with other jobs' load); `jax` and "
              "`torch-vectorised`, which may compute on threads of their own, are timed in CPU "
              "time of their whole process. Each engine runs "
              "each workload in fresh processes with the cyclic GC on; timed workloads run in "
              f"{cfg.processes} rounds through every engine, their runs pooled, because this "
              "machine has slow spells and one process can be up to 2× slower than the next. "
              "Moons steps run back to "
              "back like a training loop, each dropping its graph, with no collection forced "
              "between them; chain runs are independent, with a full collection (untimed) "
              "before each. Ratios compare engines measured in this same run."), "",
             "## Machine", "", *machine(), "", "## Versions", "", *versions, "",
             "## Agreement", "", *check, "", "## Results", "",
             *moons_table(results, cfg.moons_points), "",
             *(base_table(results) + [""] if any(b in results for b in BASES.values()) else []),
             *(chain_table(results, cfg.chain_sizes) + [""] + memory_table(results, cfg) + [""]
               if cfg.chain_sizes else []),
             *(compile_table(results, cfg) + [""] if any(e in results for e in COMPILERS)
               else []),
             ("`ours` runs each moons step and each chain inside `autograd_core.collector_paused()`"
              ", as `nn.fit` runs a training step and `value_and_grad` a function: our graphs "
              "have no reference cycles, so they are freed by reference counting before the "
              "cycle collector resumes, and it never rescans their live nodes. `ours-plain` is "
              "the same code in a bare loop with the collector running, as a hand-written loop "
              "that does not use the pause gets it. micrograd cannot pause its collector this "
              "way: each of its nodes is a reference cycle (a closure that refers back to its "
              "node), so only the collector frees its graphs. `ours-compiled` traces each workload "
              "once with `autograd_core.compile` (untimed here; see Compiling) and replays it: "
              "one call computes the value and the gradient, so its whole time is in `forward`. "
              "`ours-compiled-jax` replays the same traces with `compile(..., backend='jax')`: "
              "the tape after our passes lowered to `jax.numpy`, forward and backward (our "
              "chain rule, not `jax.grad`) in one `jax.jit` program, timed in CPU time of the "
              "whole process as `jax` is; it runs the moons step only (XLA compiles a program "
              "with a step per level: a long chain is not its workload). "
              "`ours-compiled-reassociate` and `ours-compiled-jax-reassociate` are the same "
              "moons programs compiled with `reassociate=True`: each layer's weighted sums one "
              "BLAS matrix product (an XLA dot), adding in another order, so their numbers are "
              "eager's to rounding instead of bit for bit. "
              "`jax` is the step written by hand in `jax.numpy` (relu MLP, hinge + L2), its "
              "`value_and_grad` and the SGD update in one `jax.jit` (float64, CPU, async dispatch "
              "off), compiled by an untimed first call and timed until its result is ready; its "
              "chain is a `lax.fori_loop` differentiated in reverse mode, value and gradient in "
              "one call (so in `forward`). `torch-vectorised` is the same step with whole "
              "float64 tensors and torch's autograd, one intra-op thread; its chain, like "
              "numpy's, is a cumulative product."),
             ""]
    return "\n".join(lines)


def export_commit(commit: str, into: str) -> str:
    """Write the commit's autograd_core package into the folder; its short hash."""
    try:
        short = subprocess.run(["git", "rev-parse", "--short", f"{commit}^{{commit}}"],
                               cwd=HERE.parent, check=True, capture_output=True,
                               text=True).stdout.strip()
        archive = subprocess.run(["git", "archive", short, "autograd_core"], cwd=HERE.parent,
                                 check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise SystemExit(f"--base {commit}: not a commit of this repository ({err})") from None
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return short


def base_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """The moons step now and at the earlier commit, in both collector modes."""
    rows = ["### Against an earlier commit", "",
            ("The moons step of `ours` (and `ours-plain`) beside the same engine at the commit "
             "named under Versions, interleaved in the same rounds: milliseconds, median; "
             "`× base` = how many times faster than that commit (above 1: faster now)."), "",
            "| engine | forward | backward | step | at the commit | × base |",
            "|---|---:|---:|---:|---:|---:|"]
    for engine, base in BASES.items():
        now, then = results.get(engine, {}).get("moons"), results.get(base, {}).get("moons")
        if status(now) is not None or status(then) is not None:
            continue
        assert now is not None and then is not None
        step, old = (statistics.median(times(r, PARTS)) for r in (now, then))
        rows.append(f"| {engine} | {fmt_ms(statistics.median(now['forward']))} | "
                    f"{fmt_ms(statistics.median(now['backward']))} | **{fmt_ms(step)}** | "
                    f"{fmt_ms(old)} | {_ratio(old, step)} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure, check, write the report; 1 if engines disagree."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every workload once, small")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--out", help="write the report here (default: RESULTS.md unless --quick)")
    parser.add_argument("--moons", action="store_true",
                        help="the moons step alone, 201 steps (and its compile time): no chains, "
                        "no memory")
    parser.add_argument("--base", metavar="COMMIT",
                        help="also run `ours` and `ours-plain` as they were at this commit")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"only these workloads, comma-separated, from {', '.join(ROWS)} "
                             f"(a partial run never writes RESULTS.md unless --out says so)")
    parser.add_argument("--chain-sizes", help="chain lengths, comma-separated (default: the "
                                              "run's own)")
    args = parser.parse_args(argv)
    rows = tuple(args.rows.split(","))
    if set(rows) - set(ROWS):
        parser.error(f"unknown rows: {', '.join(sorted(set(rows) - set(ROWS)))}")
    engines = args.engines.split(",")
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if not args.base:
        engines = [e for e in engines if e not in BASES.values()]
    cfg = QUICK if args.quick else FULL
    if args.chain_sizes:
        sizes = tuple(int(n) for n in args.chain_sizes.split(","))
        cfg = dataclasses.replace(cfg, chain_sizes=sizes,
                                  chain_repeat={n: cfg.chain_repeat.get(n, 5) for n in sizes})
    if args.moons:  # the moons rows alone, with 201 steps each: a tenth of a second each
        rows = ("moons", "compile")
        cfg = dataclasses.replace(cfg, chain_sizes=(), moons_repeat=201)
    partial = rows != ROWS or bool(args.chain_sizes) or args.moons
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tree:
        if args.base:
            os.environ["BENCH_BASE_COMMIT"] = export_commit(args.base, tree)
            os.environ["BENCH_BASE_TREE"] = tree
        results = measure(cfg, engines, rows)
    problems = disagreements(results)
    command = "make bench-quick" if args.quick else "make bench"
    if partial or args.engines != parser.get_default("engines"):
        command = "python -m benchmarks.run " + " ".join(argv if argv is not None
                                                         else sys.argv[1:])
    text = report(results, cfg, problems, time.perf_counter() - start, command)
    out = args.out or (None if args.quick or partial else str(HERE / "RESULTS.md"))
    if out:
        Path(out).write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)
    for p in problems:
        print(f"DISAGREEMENT: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
