"""The command line: the slide example, and every kind of bad input exits 2 with one line."""

import os
import subprocess
import sys

import pytest

from autograd_core.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_trace_slide_example_table(capsys):
    status, out, err = run(capsys, "trace", "(x + y) * z", "x=-2", "y=5", "z=-4")
    assert status == 0 and err == ""
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["node", "op", "value", "grad", "is"]
    assert ["x", "-2.0000", "-4.0000"] in rows
    assert ["y", "5.0000", "-4.0000"] in rows
    assert ["z", "-4.0000", "3.0000"] in rows
    # The slides' short names, each with the part of the expression it stands for.
    assert ["q", "x", "+", "y", "3.0000", "-4.0000", "x", "+", "y"] in rows
    assert ["f", "q", "*", "z", "-12.0000", "1.0000", "(x", "+", "y)", "*", "z"] in rows


def test_python_dash_m_runs_without_traceback(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "autograd_core", "trace", "x.y", "x=1"],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    good = subprocess.run([sys.executable, "-m", "autograd_core", "trace", "x * x", "x=3"],
                          capture_output=True, text=True)
    assert good.returncode == 0 and "6.0000" in good.stdout


def test_constant_exponent_has_no_gradient_so_negative_base_works(capsys):
    status, out, _ = run(capsys, "trace", "x ** 2", "x=-3")
    assert status == 0 and "-6.0000" in out


@pytest.mark.parametrize(
    "expression, variables, words",
    [
        ("(x + ", ["x=1"], "syntax error"),
        ("foo(x)", ["x=1"], "unknown function 'foo'"),
        ("x + q", ["x=1"], "no value for q"),
        ("x", ["x=abc"], "needs a number"),
        ("x", ["x=nan"], "finite"),
        ("x", ["x"], "name=NUMBER"),
        ("x", ["x=1", "y=2"], "not used"),
        ("x.real", ["x=1"], "attribute access"),
        ("x[0]", ["x=1"], "subscript"),
        ("(lambda: 1)()", [], "cannot be called"),
        ("lambda: 1", [], "lambda"),
        ("[a for a in x]", ["x=1"], "comprehension"),
        ("'text'", [], "only real numbers"),
        ("x if x else x", ["x=1"], "if/else"),
        ("x < 1", ["x=1"], "comparison"),
        ("x @ x", ["x=1"], "MatMult"),
        ("max(x)", ["x=1"], "takes 2 arguments"),
        ("exp(x=1)", [], "positional"),
        ("exp + 1", [], "is a function"),
        ("x" + "+x" * 300, ["x=1"], "limit is 500"),
        ("exp(" * 40 + "0" + ")" * 40, [], "nested more than 32"),
        ("9**9**9", [], "overflows"),
        ("log(x)", ["x=-1"], "log(-1.0) is undefined"),
        ("1 / x", ["x=0"], "1.0 / 0.0 is undefined"),
        ("sqrt(x)", ["x=0"], "backward through sqrt"),
        ("", [], "empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, expression, variables, words):
    status, out, err = run(capsys, "trace", expression, *variables)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and words in err


def test_import_attempt_is_never_executed(capsys, tmp_path):
    target = tmp_path / "pwned"
    attack = f"__import__('os').system('touch {target}')"
    status, _, err = run(capsys, "trace", attack)
    assert status == 2 and "cannot be called" in err
    status, _, err = run(capsys, "trace", "__import__('os')")
    assert status == 2 and "unknown function '__import__'" in err
    assert not target.exists()


def test_trace_writes_picture_and_frames(capsys, tmp_path):
    status, out, _ = run(capsys, "trace", "(x + y) * z", "x=-2", "y=5", "z=-4",
                         "-o", str(tmp_path / "g.svg"), "--frames", str(tmp_path / "steps"))
    assert status == 0
    assert (tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert (tmp_path / "steps" / "steps.html").exists()
    assert f"graph: {tmp_path / 'g.svg'}" in out


def test_trace_bad_output_extension_exits_2(capsys, tmp_path):
    status, _, err = run(capsys, "trace", "x * 2", "x=1", "-o", str(tmp_path / "g.svgx"))
    assert status == 2 and "cannot write" in err
    assert list(tmp_path.iterdir()) == []


def test_train_writes_plot_and_model(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "xor", "--steps", "2", "--seed", "1",
                         "--out", str(tmp_path), "--no-progress")
    assert status == 0 and "accuracy" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "xor_boundary.png", "xor_loss.png", "xor_model.json"]


def test_train_flow_writes_the_gradient_flow_plot_and_the_network_beside_them(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "xor", "--steps", "2", "--seed", "1",
                         "--out", str(tmp_path), "--no-progress", "--flow")
    assert status == 0 and f"wrote {tmp_path / 'xor_network.svg'}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "xor_boundary.png", "xor_flow.png", "xor_loss.png", "xor_model.json", "xor_network.svg"]
    assert "<svg" in (tmp_path / "xor_network.svg").read_text()


def test_train_flow_draws_the_network_at_the_chosen_step_and_says_which(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "xor", "--steps", "6", "--seed", "1",
                         "--out", str(tmp_path), "--no-progress", "--flow", "--flow-step", "3")
    assert status == 0 and "the network picture shows step 3" in out
    assert "step 3" in (tmp_path / "xor_network.svg").read_text()


def test_the_network_step_by_default_is_the_one_with_the_largest_weight_gradients():
    from autograd_core.nn.recipes import train
    result = train("moons", out=None, steps=8, flow=True, progress=False)
    flows = result.history.flow
    largest = max(range(len(flows)), key=lambda k: sum(f.grad_max for f in flows[k]))
    assert result.network_step == largest


@pytest.mark.parametrize("flags, words", [
    (("--flow", "--flow-step", "6"), "an integer in [0, 6), got 6"),
    (("--flow", "--flow-step", "-1"), "got -1"),
    (("--flow-step", "2"), "it needs flow=True (--flow)"),
])
def test_a_flow_step_outside_the_run_exits_2_in_one_line(capsys, tmp_path, flags, words):
    status, _, err = run(capsys, "train", "xor", "--steps", "6", "--out", str(tmp_path),
                         "--no-progress", *flags)
    assert status == 2 and words in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_train_compile_takes_the_same_steps_as_eager(capsys, tmp_path):
    runs = {}
    for flags in ((), ("--compile",), ("--compile", "--flow")):
        status, out, _ = run(capsys, "train", "xor", "--steps", "12", "--seed", "1",
                             "--out", str(tmp_path / "-".join(flags or ("eager",))),
                             "--no-progress", *flags)
        assert status == 0
        runs[flags] = [line for line in out.splitlines() if "loss " in line]
    eager = runs[()]
    for flags, lines in runs.items():  # printed to 4 places: identical to rounding
        assert lines == eager, flags


@pytest.mark.parametrize("argv", [["train", "mnist"], ["train", "moons", "--steps", "x"]])
def test_train_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_train_zero_steps_exits_2(capsys, tmp_path):
    status, _, err = run(capsys, "train", "moons", "--steps", "0", "--out", str(tmp_path))
    assert status == 2 and "--steps must be at least 1" in err


def test_output_into_a_closed_pipe_is_not_an_error():
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` after it has read what it wanted
    try:
        done = subprocess.run([sys.executable, "-m", "autograd_core", "trace", "x * 2", "x=1"],
                              stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert done.returncode == 0 and "Traceback" not in done.stderr


# --- start-up: trace needs the engine and the drawings, nothing of nn -------------------------

_IMPORTED_BY_TRACE = """
import sys
from autograd_core.cli import build_parser, main
args = build_parser().parse_args(["trace", "(x + y) * z", "x=1", "y=2", "z=3"])
parsed = sorted(sys.modules)
main(["trace", "(x + y) * z", "x=1", "y=2", "z=3"])
print(" ".join(parsed)); print(" ".join(sorted(sys.modules)))
"""
# numpy is the op table's own (its records carry vectorised rules for compiled replay); nn and
# the plotting and progress libraries it pulls in are train's alone.
_HEAVY = ("autograd_core.nn", "nn", "matplotlib", "tqdm")


def test_parsing_and_running_trace_imports_no_nn_or_matplotlib():
    done = subprocess.run([sys.executable, "-c", _IMPORTED_BY_TRACE], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parsed, ran = (line.split() for line in done.stdout.splitlines()[-2:])
    for modules in (parsed, ran):
        heavy = [m for m in modules if m in _HEAVY or m.startswith(tuple(f"{h}." for h in _HEAVY))]
        assert heavy == []


def test_train_offers_every_recipe_and_the_recipes_seed():
    from autograd_core.examples import DATASETS, SEED
    from autograd_core.nn import recipes

    assert DATASETS == tuple(recipes.RECIPES) and SEED == recipes.SEED == 1337


# --- what each message says ---------------------------------------------------------------------

def test_huge_and_tiny_numbers_print_in_scientific_notation(capsys):
    status, out, _ = run(capsys, "trace", "x + x", "x=1e300")
    assert status == 0 and max(len(line) for line in out.splitlines()) < 60
    assert ["f", "x", "+", "x", "2.0000e+300", "1.0000", "x", "+", "x"] in [r.split() for r in
                                                                    out.splitlines()]
    status, out, _ = run(capsys, "trace", "x * y", "x=1e-9", "y=3")
    assert "1.0000e-09" in out and "3.0000e-09" in out


def test_an_expression_that_ends_early_names_the_column_after_its_end(capsys):
    status, _, err = run(capsys, "trace", "x + ", "x=1")
    assert status == 2
    assert err == ("autograd-core: error: syntax error in expression at column 4: it ends "
                   "before it is complete (after 'x +')\n")


def test_an_expression_of_numbers_needs_no_variables_and_usage_says_they_are_optional(capsys):
    status, out, _ = run(capsys, "trace", "3")
    # a number takes no gradient: its row shows its value (the grad column is the table's)
    assert status == 0 and ["3", "3.0000"] in [r.split()[:2] for r in out.splitlines()]
    with pytest.raises(SystemExit):
        main(["trace", "--help"])
    usage = capsys.readouterr().out
    assert "EXPRESSION [NAME=NUMBER ...]" in " ".join(usage.split())


def test_trace_frames_and_forward_write_both_passes(capsys, tmp_path):
    status, out, err = run(capsys, "trace", "x * y", "x=2", "y=3", "--frames",
                           str(tmp_path / "s"), "--forward")
    assert status == 0 and err == "" and f"frames: {tmp_path / 's' / 'steps.html'}" in out
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert "forward-000.svg" in names and "backward-000.svg" in names


def test_forward_without_frames_is_refused(capsys):
    status, _, err = run(capsys, "trace", "x * y", "x=2", "y=3", "--forward")
    assert status == 2 and "give --frames too" in err


def test_trace_frames_quiz_writes_a_quiz_page_and_needs_frames(capsys, tmp_path):
    status, out, err = run(capsys, "trace", "(x + y) * z", "x=-2", "y=5", "z=-4", "--frames",
                           str(tmp_path / "s"), "--quiz")
    page = (tmp_path / "s" / "steps.html").read_text()
    assert status == 0 and err == "" and '"quiz": true' in page and "What is" not in out
    plain = run(capsys, "trace", "x * y", "x=2", "y=3", "--frames", str(tmp_path / "p"))
    assert plain[0] == 0 and '"quiz": true' not in (tmp_path / "p" / "steps.html").read_text()
    status, _, err = run(capsys, "trace", "x * y", "x=2", "y=3", "--quiz")
    assert status == 2 and "give --frames too" in err


def test_trace_old_steps_flag_still_writes_frames_and_names_the_new_one(capsys, tmp_path):
    status, out, err = run(capsys, "trace", "x * 2", "x=1", "--steps", str(tmp_path / "s"))
    assert status == 0 and (tmp_path / "s" / "steps.html").exists()
    assert err == ("autograd-core: trace --steps DIR is now --frames DIR (train's --steps "
                   "counts training steps); the old spelling will go\n")
    status, _, err = run(capsys, "trace", "x * 2", "x=1", "--steps", str(tmp_path / "a"),
                         "--frames", str(tmp_path / "b"))
    assert status == 2 and "give --frames DIR only" in err


def test_train_that_never_reaches_100_percent_says_so_with_its_best(capsys):
    from autograd_core.nn import MLP, History
    from autograd_core.nn.recipes import TrainResult, report

    history = History(loss=[1.0, 0.5, 0.6], accuracy=[0.5, 0.98, 0.9], lr=[1.0] * 3,
                      final_loss=0.6, final_accuracy=0.9)
    report("spiral", TrainResult(MLP(2, [3]), history, [], 0.01))
    out = capsys.readouterr().out
    assert "training accuracy never reached 100% (best 98%)" in out and "None" not in out


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_train_seed_out_of_range_is_our_one_line(capsys, tmp_path, seed):
    status, out, err = run(capsys, "train", "moons", "--seed", seed, "--out", str(tmp_path))
    assert status == 2 and out == ""
    assert err == (f"autograd-core: error: --seed must be from 0 to 2**32 - 1 = 4294967295, "
                   f"got {seed}\n")


def test_a_gradient_that_overflows_exits_2_naming_the_step(capsys):
    status, out, err = run(capsys, "trace", "log(x)", "x=5e-324")
    assert status == 2 and out == ""
    assert err == ("autograd-core: error: backward through log(5e-324): its partial ∂/∂x = inf, "
                   "not a finite number\n")


def test_a_sub_expression_of_numbers_only_is_a_constant(capsys):
    status, out, _ = run(capsys, "trace", "clamp(x, -1, 1) * (2 * 3)", "x=2")
    rows = [line.split() for line in out.splitlines()]
    # -1 and 2 * 3 are numbers of the formula: no op, no neg node, no mul node of 2 and 3
    assert status == 0 and ["-1", "-1.0000", "—"] in rows
    assert ["2", "*", "3", "6.0000", "—"] in rows
    assert not any(r[1:2] == ["-(-1)"] for r in rows)


# --- issue 23: names, honest tables, --version, the user's own paths ---------------------------

from autograd_core.cli import format_table, trace  # noqa: E402


def test_version_flag_prints_the_package_version(capsys):
    import autograd_core

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"autograd-core {autograd_core.__version__}\n"


def test_trace_table_for_2_to_the_x_shows_no_grad_for_the_literal_and_the_users_syntax():
    result = trace("2 ** x", {"x": 3})
    result.root.backward()
    rows = [line.split() for line in format_table(result.root, result.names).splitlines()]
    assert rows == [["node", "op", "value", "grad", "is"],
                    ["2", "2.0000", "—"],  # a number takes no gradient: not ∂f/∂2 = 0
                    ["x", "3.0000", "5.5452"],
                    ["f", "2", "**", "x", "8.0000", "1.0000", "2", "**", "x"]]
    assert "pow" not in format_table(result.root, result.names)


def test_names_never_run_backwards_when_variables_take_f_and_q():
    result = trace("(f + q) * 2", {"f": 1, "q": 2})
    assert result.names == {"r": "f + q", "s": "(f + q) * 2"}  # computed first, named first
    assert result.root.label == "s"


@pytest.mark.parametrize("argv, path", [
    (["trace", "x * y", "x=1", "y=2", "-o", "/proc/nope.svg"], "/proc/nope.svg"),
    (["train", "moons", "--steps", "1", "--out", "/proc/nope"], "/proc/nope"),
])
def test_an_unwritable_output_names_the_path_the_user_gave(capsys, argv, path):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"'{path}'" in err and "tmp" not in err


def test_an_unwritable_scrubber_page_is_named_not_the_out_folder(capsys, tmp_path):
    argv = ["train", "moons", "--steps", "1", "--no-progress", "--out", str(tmp_path),
            "--scrubber", "/proc/nope.html"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'/proc/nope.html'" in err and str(tmp_path) not in err


def test_train_progress_line_fits_80_columns_with_bar_loss_and_accuracy(tmp_path):
    """Under a pseudo-terminal 80 columns wide, as a user's terminal runs the demo."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    command = [sys.executable, "-m", "autograd_core", "train", "moons", "--steps", "3",
               "--out", str(tmp_path)]
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    child = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert child.wait() == 0
    lines = [ln for ln in out.decode().replace("\r", "\n").splitlines() if "fit " in ln]
    last = lines[-1].strip()
    assert last.startswith("fit MLP 2-16-16-1: 100%|")
    assert len(last) <= 80 and "loss=" in last and "acc=" in last
    assert last.count("█") >= 10  # a bar, not one cell squeezed by a long description
