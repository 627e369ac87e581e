"""detect_anomaly: a failing backward names the line of the user's that made the op."""

import threading

import pytest

from autograd_core import Value, compile, detect_anomaly, enable_grad, grad, no_grad
from autograd_core.modes import is_grad_enabled, recording, watcher

HERE = __file__


def _flat_then_sqrt(x):
    z = x - x
    return z.sqrt() * 2.0  # the op whose backward fails: √ at 0


def _line_of(text):
    with open(HERE) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


def test_a_backward_through_a_kink_names_the_line_that_made_the_op():
    x = Value(3.0, "x")
    with detect_anomaly(), pytest.raises(ZeroDivisionError) as info:
        _flat_then_sqrt(x).backward()
    message = str(info.value)
    assert message.startswith("backward through sqrt(0.0)")
    assert f'File "{HERE}", line {_line_of("return z.sqrt() * 2.0")}, in _flat_then_sqrt' in message
    assert "z.sqrt() * 2.0" in message
    assert x.grad == 0.0  # a failed pass changes nothing, as always


def test_inside_grad_the_frames_named_are_the_users_not_the_librarys():
    with detect_anomaly(frames=2), pytest.raises(ZeroDivisionError) as info:
        grad(_flat_then_sqrt)(3.0)
    sites = str(info.value).split("the op was made at:")[1]
    assert "_flat_then_sqrt" in sites
    assert "autograd_core" not in sites.replace("test_anomaly", "")
    assert sites.count("File ") == 2


def test_an_overflowing_partial_names_its_line_too():
    x = Value(1.0)
    with detect_anomaly(), pytest.raises(OverflowError) as info:
        tiny = x * 0.0 + 5e-324
        (tiny.log() * 1.0).backward()  # ∂ log / ∂x = 1 / 5e-324: inf
    assert "log(5e-324)" in str(info.value)
    assert "tiny.log() * 1.0" in str(info.value)


def test_without_the_detector_the_message_is_as_before_and_nothing_is_remembered():
    x = Value(3.0)
    with pytest.raises(ZeroDivisionError) as info:
        _flat_then_sqrt(x).backward()
    assert "made at" not in str(info.value)
    assert recording() is True and watcher.get() is None


def test_grad_modes_inside_the_block_keep_it_watching_and_no_grad_makes_leaves():
    x = Value(2.0)
    with detect_anomaly() as detector:
        a = x * 3.0
        with no_grad():
            b = x * 3.0
            with enable_grad():
                c = x * 3.0
        assert is_grad_enabled()
    assert detector.sites[a] and detector.sites[c]
    assert b.op is None and b not in detector.sites
    assert recording() is True


def test_entered_inside_no_grad_it_records_nothing_until_grad_is_enabled():
    x = Value(2.0)
    with no_grad(), detect_anomaly() as detector:
        y = x * 2.0
    assert y.op is None and not len(detector.sites)


def test_the_detector_is_per_thread():
    seen = []

    def other():
        seen.append(watcher.get())

    with detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == [None]


def test_nodes_are_not_kept_alive_by_the_detector():
    with detect_anomaly() as detector:
        y = Value(1.0) * 2.0
        assert len(detector.sites) == 1
        del y
        assert len(detector.sites) == 0


def test_a_compiled_functions_trace_takes_the_nodes_and_still_replays_right():
    made = []

    def f(x):
        made.append(x * x)  # kept alive, so the detector would still hold it
        return made[-1] + 1.0

    with detect_anomaly() as detector:
        program = compile(f, 2.0)
        assert program(3.0) == (10.0, (6.0,))
    assert made and not any(n in detector.sites for n in made)


@pytest.mark.parametrize("frames", [0, -1, 1.5, True, "3"])
def test_a_frame_count_that_is_not_a_positive_int_is_refused(frames):
    with pytest.raises(ValueError, match="frames needs an int >= 1"):
        detect_anomaly(frames=frames)
