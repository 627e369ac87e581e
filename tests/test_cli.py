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
    assert ["q", "add", "3.0000", "-4.0000", "x", "+", "y"] in rows
    assert ["f", "mul", "-12.0000", "1.0000", "(x", "+", "y)", "*", "z"] in rows


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


def test_trace_writes_picture_and_steps(capsys, tmp_path):
    status, out, _ = run(capsys, "trace", "(x + y) * z", "x=-2", "y=5", "z=-4",
                         "-o", str(tmp_path / "g.svg"), "--steps", str(tmp_path / "steps"))
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
