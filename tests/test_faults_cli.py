"""Faults at the command line and in checker arguments (issue 12, items 11-13): output paths
checked before any work, Ctrl-C, the --steps cap, honest depth, gradcheck and strategies."""

import math
import os
import signal
import stat
import subprocess
import sys

import pytest

from autograd_core import files as files_module
from autograd_core import gradcheck, numerical_gradient, ops
from autograd_core.cli import MAX_STEP_FRAMES, build_parser, main
from autograd_core.nn import recipes as recipes_module
from autograd_core.testing import expressions, values


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _no_training(monkeypatch):
    def fit(*_, **__):
        pytest.fail("training started before --out was checked")

    monkeypatch.setattr(recipes_module, "fit", fit)


# --- train: --out before the first step --------------------------------------------------------

@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "out").write_text(""), "is a file, not a folder"),
    (lambda d: (d / "file").write_text(""), "/file' is a file, not a folder"),  # out = file/sub
    (lambda d: (d / "out").mkdir() or (d / "out" / "xor_model.json").mkdir(), "it is a folder"),
])
def test_train_checks_out_before_training(capsys, tmp_path, monkeypatch, make, words):
    make(tmp_path)
    out = tmp_path / ("file/sub" if (tmp_path / "file").exists() else "out")
    _no_training(monkeypatch)
    status, _, err = run(capsys, "train", "xor", "--steps", "2", "--out", str(out),
                         "--no-progress")
    assert status == 2 and err.count("\n") == 1 and words in err


def test_train_out_that_cannot_be_written_is_refused_before_training(capsys, tmp_path,
                                                                   monkeypatch):
    # Root may write anywhere, so the refusal is injected where the folder is probed.
    def read_only(*_, **__):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(files_module.tempfile, "TemporaryFile", read_only)
    _no_training(monkeypatch)
    status, _, err = run(capsys, "train", "xor", "--out", str(tmp_path), "--no-progress")
    assert status == 2 and "Read-only file system" in err


def test_train_empty_out_is_refused(capsys, monkeypatch):
    _no_training(monkeypatch)
    status, _, err = run(capsys, "train", "xor", "--out", "", "--no-progress")
    assert status == 2 and "empty path" in err


# --- trace: every output path before any work -------------------------------------------------

@pytest.mark.parametrize("option, path, words", [
    ("-o", "", "empty path names no file"),
    ("-o", "afile/g.svg", "'afile' is a file, not a folder"),
    ("-o", "null.svg", "character device, not a regular file"),
    ("-o", "missing/g.svg", "does not exist"),
    ("--frames", "", "empty path names no folder"),
    ("--frames", "afile", "'afile' is a file, not a folder"),
])
def test_trace_output_paths_are_checked_before_work(capsys, tmp_path, monkeypatch, option, path,
                                                    words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    if path == "null.svg":  # our own null device, never the machine's /dev/null
        try:
            os.mknod(tmp_path / path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")
    import autograd_core.export as export

    monkeypatch.setattr(export, "image_bytes", lambda *_: pytest.fail("rendered before checks"))
    status, out, err = run(capsys, "trace", "x * 2", "x=1", option, path)
    assert status == 2 and out == "" and err.count("\n") == 1 and words in err


def test_a_bad_frames_folder_is_found_before_the_picture_is_drawn(capsys, tmp_path):
    (tmp_path / "afile").write_text("")
    status, _, _ = run(capsys, "trace", "x * 2", "x=1", "-o", str(tmp_path / "g.svg"),
                       "--frames", str(tmp_path / "afile"))
    assert status == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_frames_are_capped_with_a_message(capsys, tmp_path):
    terms = MAX_STEP_FRAMES + 5
    status, out, err = run(capsys, "trace", "+".join(["x"] * terms), "x=1",
                           "--frames", str(tmp_path / "steps"))
    assert status == 2 and out == ""
    assert f"the limit is {MAX_STEP_FRAMES} frames" in err and err.count("\n") == 1
    assert not (tmp_path / "steps").exists()


# --- messages -------------------------------------------------------------------------------

@pytest.mark.parametrize("terms", [34, 249])
def test_flat_sum_is_one_level_not_too_deep(capsys, terms):
    status, out, _ = run(capsys, "trace", "+".join(["x"] * terms), "x=1")
    assert status == 0 and f"{terms}.0000" in out


def test_flat_mixed_chains_and_deep_nesting(capsys):
    status, _, _ = run(capsys, "trace", "-".join(["x"] * 20) + "*" + "/".join(["x"] * 20), "x=2")
    assert status == 0
    # ((x+x)+x) is the tree of x+x+x: flat. x*(x*(x*...)) nests at every step.
    status, _, _ = run(capsys, "trace", "(" * 33 + "x" + "+x)" * 33, "x=1")
    assert status == 0
    status, _, err = run(capsys, "trace", "x*(" * 33 + "x" + ")" * 33, "x=1")
    assert status == 2 and "nested more than 32 levels" in err


def test_invalid_utf8_is_named(capsys):
    status, _, err = run(capsys, "trace", "x" + os.fsdecode(b"\xff"), "x=1")
    assert status == 2 and "not valid UTF-8 text (byte 0xff at character 2)" in err


def test_help_says_a_leading_minus_needs_double_dash(capsys):
    help_text = build_parser()._subparsers._group_actions[0].choices["trace"].format_help()
    assert '"--"' in help_text
    status, out, _ = run(capsys, "trace", "--", "-x", "x=2")
    assert status == 0 and "-2.0000" in out


# --- Ctrl-C: status 130, one line ---------------------------------------------------------------

def test_ctrl_c_in_process_is_one_line_and_130(capsys, monkeypatch):
    import autograd_core.cli as cli

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "parse_variables", interrupted)
    status, out, err = run(capsys, "trace", "x", "x=1")
    assert status == 130 and out == "" and err == "autograd-core: interrupted\n"


# The child blocks inside the command's real work, says so on stdout, and is then sent SIGINT.
_CHILD = """
import signal, sys, time
import autograd_core.export, autograd_core.nn.recipes
from autograd_core.cli import main

# As at a terminal: a test run started in the background (`make test &`) hands its children
# SIGINT ignored, and Python then installs no KeyboardInterrupt for it.
signal.signal(signal.SIGINT, signal.default_int_handler)

def stuck(*args, **kwargs):
    print("ready", flush=True)
    time.sleep(60)

autograd_core.export.image_bytes = stuck
autograd_core.nn.recipes.fit = stuck
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [
    ["train", "moons", "--no-progress", "--out", "{tmp}"],
    ["trace", "(x + y) * z", "x=1", "y=2", "z=3", "-o", "{tmp}/g.svg"],
])
def test_sigint_exits_130_with_one_line(tmp_path, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        while (line := child.stdout.readline()) not in ("ready\n", ""):
            pass  # trace prints its table first
        assert line == "ready\n"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130
    assert err == "autograd-core: interrupted\n" and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- gradcheck and the strategies' arguments ---------------------------------------------------

@pytest.mark.parametrize("kwargs, words", [
    ({"eps": 0.0}, "eps must be a positive finite step, got 0.0"),
    ({"eps": -1e-6}, "got -1e-06"),
    ({"eps": math.nan}, "eps must be a positive finite step, got nan"),
    ({"rtol": -1.0}, "rtol must be ≥ 0, got -1.0"),
    ({"atol": -1e-5}, "atol must be ≥ 0, got -1e-05"),
    ({"atol": math.nan}, "atol must be ≥ 0, got nan"),
])
def test_gradcheck_refuses_bad_tolerances(kwargs, words):
    with pytest.raises(ValueError, match=words):
        gradcheck(lambda x: x * x, [1.0], **kwargs)


def test_numerical_gradient_refuses_a_zero_step():
    with pytest.raises(ValueError, match="eps must be"):
        numerical_gradient(lambda x: x * x, [1.0], eps=0.0)


@pytest.mark.parametrize("x", [1e10, -3e12, 1e-3])
def test_gradcheck_step_is_relative_so_large_inputs_pass(x):
    assert gradcheck(lambda v: v * v, [x])
    assert gradcheck(lambda v: v * v * 3.0 + v, [x], second_order=True)


@pytest.mark.parametrize("kwargs, words", [
    ({"inputs": [math.nan]}, "inputs must be finite numbers, got nan"),
    ({"inputs": [1.0, math.inf]}, "got inf"),
    ({"margin": -1.0}, r"margin is a fraction .* in \[0, 0.5\), got -1.0"),
    ({"margin": 0.5}, "got 0.5"),
    ({"max_slope": 0.0}, "max_slope must be > 0"),
    ({"max_slope": math.nan}, "got nan"),
])
def test_expressions_refuse_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        expressions(**kwargs)


def test_values_refuse_a_negative_margin():
    with pytest.raises(ValueError, match="margin must be a finite distance ≥ 0, got -1"):
        values(ops.MUL, margin=-1)
