"""The mutation score for `make mutation`: mutmut's verdicts, survivors re-run in fresh processes.

mutmut 3 forks each mutant's test run from a process that has already imported the package, so
code that runs only at import (the factories that build the op methods into engine._METHODS)
has run unmutated and its mutants "survive" untested. Every survivor is therefore run once more
in a fresh interpreter, with MUTANT_UNDER_TEST set before the import; if a test fails there, the
mutant is killed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

MUTMUT = os.path.join(os.path.dirname(sys.executable), "mutmut")
# The suites about the engine and the op table (a survivor runs all of them, so nn's, the
# CLI's, the browser's and the files' suites, which reach the engine only through these, are
# left out to keep a re-run to seconds). The million-node chain adds only time.
TESTS = [f"tests/test_{name}.py" for name in (
    "engine", "engine_contracts", "value", "ops", "edges", "nested_grad", "chain_rule",
    "properties", "gradcheck", "render", "compile")] + [
    "-k", "not chain_of_a_million and not strict_guard_raises_naming"]
DETECTED = ("killed", "timeout")


def verdicts() -> dict[str, str]:
    """mutmut's verdict for every mutant, by name."""
    listing = subprocess.run([MUTMUT, "results", "--all", "true"], capture_output=True,
                             text=True, check=True).stdout
    pairs = (line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    return {name: verdict for name, verdict in pairs}


def killed_on_fresh_import(name: str) -> bool:
    """True if some test fails (or hangs) with the mutant switched on before the import."""
    env = dict(os.environ, MUTANT_UNDER_TEST=name, HYPOTHESIS_PROFILE="mutation")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS]
    try:
        run = subprocess.run(command, cwd="mutants", env=env, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return True
    return run.returncode not in (0, 5)  # 0: all passed, 5: no test ran


def main() -> None:
    found = verdicts()
    counts = {v: sum(1 for x in found.values() if x == v) for v in sorted(set(found.values()))}
    print("mutmut verdicts:", ", ".join(f"{n} {v}" for v, n in counts.items()))
    survivors = sorted(name for name, v in found.items() if v not in DETECTED)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        fresh = dict(zip(survivors, pool.map(killed_on_fresh_import, survivors)))
    still = [name for name in survivors if not fresh[name]]
    print(f"re-run in fresh processes: {len(survivors) - len(still)} of {len(survivors)} "
          "survivors killed")
    killed = len(found) - len(still)
    print(f"mutation score: {killed} killed / {len(found)} mutants = {killed / len(found):.1%}")
    print(f"{len(still)} surviving mutants (`mutmut show NAME` prints the change):")
    for name in still:
        print(f"  {name}: {found[name]}")


if __name__ == "__main__":
    main()
