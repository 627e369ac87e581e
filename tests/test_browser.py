"""The stepper in a real browser: Debian's headless Chromium driven by Selenium clicks Prev and
Next, presses the arrow keys, reads the counter, caption and legend, runs two steppers on one
notebook-like page, and takes screenshots. Skipped, with how to install it, without a browser.

AUTOGRAD_CORE_SCREENSHOTS=folder keeps the screenshots there, to look at.
"""

import os
import shutil
import struct
from pathlib import Path

import pytest

from autograd_core import save_steps, show_steps
from autograd_core.cli import trace
from autograd_core.examples import fanout_graph
from autograd_core.page import MIN_SCALE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
INSTALL = ("no headless Chromium here: `apt-get install -y chromium chromium-driver` "
           "(or `make test-browser`) runs the browser tests")
# A fresh profile, no network of its own (no updates, sync or QUIC), no GPU, no sandbox (root).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900")
WIDTH = 1200

if CHROMIUM is None or DRIVER is None:  # the whole module at once: one line says how to get it
    pytest.skip(INSTALL, allow_module_level=True)


def _chrome(profile: Path, scripts: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if not scripts:  # what a static notebook viewer does to an output's <script>
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    # Both paths given: Selenium uses them as they are and downloads nothing.
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = _chrome(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path):
    kept = os.environ.get("AUTOGRAD_CORE_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def css(driver, selector, within=None):
    from selenium.webdriver.common.by import By

    return (within or driver).find_element(By.CSS_SELECTOR, selector)


def state(driver, root):
    """(counter, caption, shown frame, prev enabled, next enabled) of one stepper."""
    from selenium.webdriver.common.by import By

    frames = root.find_elements(By.CSS_SELECTOR, ".frame")
    shown = [i for i, frame in enumerate(frames) if frame.is_displayed()]
    return (css(driver, ".counter", root).text,
            css(driver, ".caption", root).get_attribute("textContent"),
            shown, css(driver, ".prev", root).is_enabled(), css(driver, ".next", root).is_enabled())


def press(driver, key_name, times=1):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(times):
        ActionChains(driver).send_keys(getattr(Keys, key_name)).perform()


def screenshot(driver, path):
    """Take a screenshot; its (width, height) in pixels, read from the PNG header."""
    driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a picture, not a blank page
    return struct.unpack(">II", data[16:24])


def slides_root():
    return trace("(x + y) * z", {"x": -2, "y": 5, "z": -4}).root


def fanout_root():
    return fanout_graph()[-1]


def test_slides_page_buttons_and_arrow_keys_move_one_frame(browser, tmp_path, shots):
    page = save_steps(slides_root(), tmp_path / "steps")
    browser.get(page.as_uri())
    root = css(browser, ".autograd-steps")
    seed = ("frame 1 of 3 · backward pass, step 0 of 2",
            "backward step 0 of 2: the seed, df/df = 1", [0], False, True)
    assert state(browser, root) == seed
    assert screenshot(browser, shots / "slides-page-step0.png")[0] == WIDTH
    css(browser, ".next", root).click()
    counter, caption, shown, prev, nxt = state(browser, root)
    assert (counter, shown, prev, nxt) == ("frame 2 of 3 · backward pass, step 1 of 2", [1],
                                           True, True)
    assert caption.split("\n") == ["backward step 1 of 2: f = q * z   (mul, a swapper)",
                                   "df/dq += ∂f/∂q · df/df = -4.0000 · 1.0000 = -4.0000",
                                   "df/dz += ∂f/∂z · df/df = 3.0000 · 1.0000 = 3.0000"]
    press(browser, "ARROW_RIGHT", 2)  # the second press is at the end: nothing moves
    counter, caption, shown, prev, nxt = state(browser, root)
    assert (counter, shown, prev, nxt) == ("frame 3 of 3 · backward pass, step 2 of 2", [2],
                                           True, False)
    assert "df/dx += ∂q/∂x · df/dq = 1.0000 · (-4.0000) = -4.0000" in caption
    width, height = screenshot(browser, shots / "slides-page-step2.png")
    assert width == WIDTH and 400 <= height <= 2000
    css(browser, ".prev", root).click()
    assert state(browser, root)[0] == "frame 2 of 3 · backward pass, step 1 of 2"
    press(browser, "ARROW_LEFT", 2)
    assert state(browser, root) == seed


def test_slides_page_legend_and_caption_are_readable_text(browser, tmp_path):
    page = save_steps(slides_root(), tmp_path / "steps")
    browser.get(page.as_uri())
    legend = css(browser, ".legend")
    assert legend.is_displayed()
    for words in ("Names: q = x + y f = q * z", "an input (a leaf you made)",
                  "the output (root)", "distributor: passes the gradient to every input",
                  "swapper: each input gets the gradient times the other input",
                  "the step being applied", "the inputs it adds to"):
        assert words in " ".join(legend.text.split()), words
    caption = css(browser, ".caption")
    assert float(caption.value_of_css_property("font-size").removesuffix("px")) >= 13
    assert caption.location["y"] < css(browser, ".picture").location["y"]  # above the picture
    assert not css(browser, ".every-step").get_attribute("open")  # the script folded it


def test_wide_neuron_stays_readable_with_a_minimum_scale_and_scrolling(browser, tmp_path, shots):
    neuron = trace("sigmoid(w0*x0 + w1*x1 + w2)",
                   {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}).root
    page = save_steps(neuron, tmp_path / "steps", forward=True)
    browser.get(page.as_uri())
    picture = css(browser, ".picture")
    svg = css(browser, ".frame svg")
    natural = float(svg.get_attribute("width").removesuffix("pt")) * 4 / 3  # pt → CSS px
    scale = svg.size["width"] / natural
    assert scale >= MIN_SCALE - 0.01  # never shrunk below the minimum scale ...
    scroll = browser.execute_script("return [arguments[0].scrollWidth, arguments[0].clientWidth]",
                                    picture)
    assert scroll[0] > scroll[1]  # ... it scrolls instead
    sizes = set()
    for _ in range(12):  # every frame, forward and backward: the picture never changes size
        sizes.add((svg.size["width"], svg.size["height"]))
        css(browser, ".next").click()
        svg = next(s for s in browser.find_elements("css selector", ".frame svg")
                   if s.is_displayed())
    assert len(sizes) == 1
    assert state(browser, css(browser, ".autograd-steps"))[0] == (
        "frame 12 of 12 · backward pass, step 5 of 5")
    width, height = screenshot(browser, shots / "neuron-page-last.png")
    assert width == WIDTH and 400 <= height <= 2000


def notebook_page(path, *outputs):
    """A page holding outputs as a notebook holds them: one cell's HTML after another."""
    cells = "\n".join(f'<div class="output">{html}</div>' for html in outputs)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{cells}"
                    f"</body></html>", encoding="utf-8")
    return path.as_uri()


def test_two_inline_steppers_on_one_page_are_independent(browser, tmp_path, shots):
    first, second = show_steps(slides_root()), show_steps(fanout_root())
    browser.get(notebook_page(tmp_path / "notebook.html", first._repr_html_(),
                              second._repr_html_()))
    a, b = browser.find_elements("css selector", ".autograd-steps")
    css(browser, ".next", b).click()
    css(browser, ".next", b).click()
    assert state(browser, a)[0] == "frame 1 of 3 · backward pass, step 0 of 2"
    counter, caption, shown, _, _ = state(browser, b)
    assert counter == "frame 3 of 3 · backward pass, step 2 of 2" and shown == [2]
    assert ("dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000   (complete: the sum over its 2 uses)"
            in caption.split("\n"))
    css(browser, ".next", a).click()  # focus is now in the first: the keys move it alone
    press(browser, "ARROW_RIGHT")
    assert state(browser, a)[0] == "frame 3 of 3 · backward pass, step 2 of 2"
    press(browser, "ARROW_LEFT", 2)
    assert state(browser, a)[0] == "frame 1 of 3 · backward pass, step 0 of 2"
    assert state(browser, b)[0] == "frame 3 of 3 · backward pass, step 2 of 2"
    width, height = screenshot(browser, shots / "notebook-two-steppers.png")
    assert width == WIDTH and 400 <= height <= 3000


def test_inline_stepper_without_scripts_shows_the_first_frame_and_every_caption(tmp_path,
                                                                                 shots):
    driver = _chrome(tmp_path / "profile", scripts=False)
    try:
        driver.get(notebook_page(tmp_path / "static.html", show_steps(fanout_root())._repr_html_()))
        root = css(driver, ".autograd-steps")
        counter, caption, shown, _, _ = state(driver, root)
        assert counter == "frame 1 of 3 · backward pass, step 0 of 2" and shown == [0]
        every = css(driver, ".every-step", root)
        assert every.get_attribute("open") is not None
        assert "dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000" in every.text
        width, _ = screenshot(driver, shots / "notebook-no-scripts.png")
        assert width == WIDTH
    finally:
        driver.quit()
