"""The training scrubber (nn.scrubber) and train's lesson options: fit(record=k) snapshots, the
page's data, the refusals that name the flag to record with, `autograd-core train` with
--activation, --hidden, --lr, --optimizer, --loss and --scrubber, and the page in headless
Chromium: moving the slider changes the boundary, the loss marker and the flow bars.

AUTOGRAD_CORE_SCREENSHOTS=folder keeps the screenshots there, to look at.
"""

import base64
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograd_core.cli import ACTIVATIONS, LOSSES, OPTIMIZERS, main
from autograd_core.nn import MLP, SGD, fit, make_xor, objective
from autograd_core.nn import hinge_loss as hinge
from autograd_core.nn.layers import ACTIVATIONS as NN_ACTIVATIONS
from autograd_core.nn.recipes import LOSSES as NN_LOSSES
from autograd_core.nn.recipes import OPTIMIZERS as NN_OPTIMIZERS
from autograd_core.nn.recipes import train
from autograd_core.nn.scrubber import save_scrubber, scrubber_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")


def xor_run(steps=6, record=1, flow=True):
    X, y = make_xor(20, noise=0.1, seed=3)
    y = 2 * y - 1
    model = MLP(2, [6, 6, 1], seed=3)
    history = fit(model, objective(hinge), (X, y), SGD(model.parameters(), lr=0.5),
                  steps=steps, progress=False, flow=flow, record=record)
    return model, history, X, y


def page_data(page: bytes):
    (payload,) = re.findall(rb'<script type="application/json" class="scrub-data">(.*?)</script>',
                            page, re.S)
    return json.loads(payload)


# --- fit(record=k) ------------------------------------------------------------------------------

def test_fit_record_k_snapshots_every_kth_step_and_the_last_before_its_update():
    X, y = make_xor(20, noise=0.1, seed=3)
    model = MLP(2, [4, 1], seed=1)
    first = [p.data for p in model.parameters()]
    history = fit(model, objective(hinge), (X, 2 * y - 1), SGD(model.parameters(), lr=0.5),
                  steps=7, progress=False, record=3)
    assert [step for step, _ in history.snapshots] == [0, 3, 6]
    assert list(history.snapshots[0][1]) == first  # the weights step 0's loss was of


@pytest.mark.parametrize("record, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError),
                                           ("1", TypeError)])
def test_fit_record_must_be_a_whole_number(record, error):
    X, y = make_xor(8, seed=1)
    model = MLP(2, [2, 1], seed=1)
    with pytest.raises(error, match="record must be an int ≥ 0"):
        fit(model, objective(hinge), (X, 2 * y - 1), SGD(model.parameters(), lr=0.1),
            steps=1, progress=False, record=record)


# --- the page -----------------------------------------------------------------------------------

def test_page_holds_one_boundary_per_snapshot_and_every_step_of_loss_and_flow():
    model, history, X, y = xor_run()
    before = [p.data for p in model.parameters()]
    data = page_data(scrubber_page(history, model, (X, y), resolution=12))
    assert data["steps"] == list(range(6)) and len(data["fields"]) == 6
    assert len(data["loss"]) == len(data["flow"]) == 6 and len(data["flow"][0]) == 3
    field = np.frombuffer(base64.b64decode(data["fields"][0]), dtype=np.int8)
    assert field.size == 12 * 12 and np.abs(field).max() == 127  # scaled to its largest score
    assert data["fields"][0] != data["fields"][-1]  # training moved the boundary
    assert [p.data for p in model.parameters()] == before  # the model keeps its weights


def test_page_is_self_contained():
    model, history, X, y = xor_run(steps=2)
    page = scrubber_page(history, model, (X, y), resolution=8).decode()
    page = page.replace('"http://www.w3.org/2000/svg"', "")  # a name, never fetched
    assert not re.search(r"(src|href)=|https?://|@import|fetch\(", page)


def test_save_scrubber_writes_the_page(tmp_path):
    model, history, X, y = xor_run(steps=2)
    path = save_scrubber(history, tmp_path / "run" / "xor.html", model=model, data=(X, y),
                         resolution=8)
    assert path.read_bytes().startswith(b"<!DOCTYPE html>")


def test_history_without_snapshots_is_refused_naming_record():
    model, history, X, y = xor_run(steps=2, record=0)
    with pytest.raises(ValueError, match=r"train with fit\(\.\.\., record=1\)"):
        scrubber_page(history, model, (X, y))


def test_history_without_flow_is_refused_naming_flow():
    model, history, X, y = xor_run(steps=2, flow=False)
    with pytest.raises(ValueError, match=r"train with fit\(\.\.\., flow=True\)"):
        scrubber_page(history, model, (X, y))


def test_another_model_than_the_trained_one_is_refused_with_both_sizes():
    _, history, X, y = xor_run(steps=2)
    with pytest.raises(ValueError, match="hold \\[67\\] parameters, but this model has 9"):
        scrubber_page(history, MLP(2, [2, 1]), (X, y))


def test_points_that_are_not_2d_are_refused():
    model, history, X, y = xor_run(steps=2)
    with pytest.raises(ValueError, match="shape \\(20, 3\\)"):
        scrubber_page(history, model, (np.zeros((20, 3)), y))


# --- train's lesson options ---------------------------------------------------------------------

def test_cli_choices_are_nns_own():
    assert ACTIVATIONS == tuple(NN_ACTIVATIONS)
    assert OPTIMIZERS == tuple(NN_OPTIMIZERS) and LOSSES == tuple(NN_LOSSES)


def test_train_with_sigmoid_adam_logistic_and_hidden_sizes():
    result = train("xor", None, steps=3, progress=False, activation="sigmoid", hidden=[5],
                   optimizer="adam", loss="logistic", lr=0.02)
    assert repr(result.model) == "MLP(2 → 5 → 1, activation='sigmoid', output_activation='linear')"
    assert result.history.lr[0] == 0.02


@pytest.mark.parametrize("argv, words", [
    (["--activation", "relu6"], "--activation must be one of linear, relu, leaky_relu, tanh, "
                                "sigmoid; got 'relu6'"),
    (["--hidden", "16,x"], "--hidden must be layer sizes such as 16,16"),
    (["--hidden", "0"], "--hidden must be layer sizes such as 16,16"),
    (["--lr", "fast"], "--lr must be a positive number such as 0.5; got 'fast'"),
    (["--lr", "0"], "--lr must be a positive number"),
    (["--lr", "inf"], "--lr must be a positive number"),
    (["--optimizer", "rmsprop"], "--optimizer must be one of sgd, momentum, adam"),
    (["--loss", "l2"], "--loss must be one of hinge, logistic, mse, cross_entropy"),
    (["--loss", "cross_entropy"], "the cross_entropy loss does not fit xor, which has two "
                                  "classes (one score); choose one of hinge, logistic, mse"),
    (["--scrubber", "page.png"], "the scrubber is an HTML page: give a path ending in .html"),
])
def test_train_bad_lesson_option_is_one_line_and_exit_2(capsys, tmp_path, argv, words):
    status = main(["train", "xor", "--steps", "1", "--no-progress", "--out", str(tmp_path),
                   *[a.replace("page.png", str(tmp_path / "page.png")) for a in argv]])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and words in err
    assert list(tmp_path.iterdir()) == []  # refused before training


def test_train_help_lists_the_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in ("linear, relu, leaky_relu, tanh, sigmoid", "sgd, momentum, adam",
                  "hinge, logistic, mse, cross_entropy, multiclass_hinge", "--scrubber"):
        assert words in out


def test_train_scrubber_writes_the_page_beside_the_other_files(capsys, tmp_path):
    page = tmp_path / "pages" / "xor.html"
    status = main(["train", "xor", "--steps", "3", "--no-progress", "--out", str(tmp_path / "o"),
                   "--activation", "tanh", "--hidden", "4,4", "--optimizer", "momentum",
                   "--scrubber", str(page)])
    out = capsys.readouterr().out
    assert status == 0 and f"wrote {page}" in out and "activation='tanh'" in out
    assert page_data(page.read_bytes())["steps"] == [0, 1, 2]


# --- in the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no headless Chromium here: `apt-get install -y chromium chromium-driver`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def pictures(driver):
    """(the boundary's pixels, the loss marker's x, the flow bars' heights, the status line)."""
    return driver.execute_script(
        "return [document.querySelector('.boundary').toDataURL(),"
        " document.querySelector('.marker').getAttribute('x1'),"
        " Array.prototype.map.call(document.querySelectorAll('.flow .bar'),"
        "   function (b) { return b.getAttribute('height'); }),"
        " document.querySelector('.status').textContent];")


def test_moving_the_slider_changes_every_picture(browser, tmp_path):
    model, history, X, y = xor_run(steps=8)
    path = save_scrubber(history, tmp_path / "xor.html", model=model, data=(X, y), resolution=16)
    browser.get(path.as_uri())
    assert browser.get_log("browser") == []
    first = pictures(browser)
    assert first[3].startswith("step 0 of 7 · loss")
    slider = browser.find_element("css selector", ".slider")
    slider.click()  # the middle of the slider
    slider.send_keys("\ue014")  # → one step further
    middle = pictures(browser)
    browser.execute_script("var s = document.querySelector('.slider'); s.value = s.max;"
                           "s.dispatchEvent(new Event('input'));")
    last = pictures(browser)
    assert last[3].startswith("step 7 of 7")
    for a, b in ((first, middle), (middle, last)):
        assert a[0] != b[0] and a[1] != b[1] and a[2] != b[2] and a[3] != b[3]
    kept = os.environ.get("AUTOGRAD_CORE_SCREENSHOTS")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(kept) / "scrubber-xor-last.png"))


def test_forced_dark_mode_shows_the_pages_own_dark_theme(browser, tmp_path):
    """Chromium's forced dark mode ("dark mode for web contents") leaves a page that declares
    its own dark theme alone: the page looks as it does with prefers-color-scheme: dark."""
    from PIL import Image, ImageChops
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    model, history, X, y = xor_run(steps=4)
    url = save_scrubber(history, tmp_path / "xor.html", model=model, data=(X, y),
                        resolution=16).as_uri()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        browser.get(url)
        browser.save_screenshot(str(tmp_path / "dark.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "light"}]})
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + ("--force-dark-mode", "--enable-features=WebContentsForceDark"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    forced = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        forced.get(url)
        forced.save_screenshot(str(tmp_path / "forced.png"))
    finally:
        forced.quit()
    a, b = (Image.open(tmp_path / name).convert("L") for name in ("dark.png", "forced.png"))
    changed = ImageChops.difference(a, b).point(lambda d: 255 if d > 48 else 0)
    fraction = sum(changed.histogram()[255:]) / (changed.width * changed.height)
    assert fraction < 0.002, f"{fraction:.2%} of the page changed under forced dark mode"
