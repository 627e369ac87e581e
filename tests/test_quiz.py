"""The quiz stepper and the "why zero?" button: the page's data in Python, then the page in
headless Chromium (Selenium, as tests/test_browser.py): a right, a wrong and a non-number
answer, the score, the masked grads, and the explanation of a dead relu.

AUTOGRAD_CORE_SCREENSHOTS=folder keeps the screenshots there, to look at.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from autograd_core import Value, save_steps, show_steps
from autograd_core.examples import fanout_graph
from autograd_core.quiz import teaching_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900")
browser_only = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no headless Chromium here: `apt-get install -y chromium chromium-driver`")


def dead_relu_graph():
    """L = 3·relu(w·x) at w = 2, x = −0.35: the relu is dead, so dL/dw = dL/dx = 0."""
    w, x = Value(2.0, "w"), Value(-0.35, "x")
    z = w * x
    z.label = "z"
    h = z.relu()
    h.label = "h"
    loss = h * 3.0
    loss.label = "L"
    return w, x, loss


def data_of(fragment):
    (payload,) = re.findall(r'<script type="application/json" class="teach-data">(.*?)</script>',
                            fragment, re.S)
    return json.loads(payload)


# --- the page's data ----------------------------------------------------------------------------

def test_fanout_quiz_asks_each_running_grad_with_its_arithmetic():
    data = data_of(teaching_html(fanout_graph()[-1], "u", quiz=True))
    asked = [(q["step"], q["name"], q["answer"], q["left"]) for q in data["questions"]]
    # h = m + x, m = x·y at x = 3, y = −4: x first gets 1 (one use still to add), then −3.
    assert asked == [(1, "m", 1.0, 0), (1, "x", 1.0, 1), (2, "x", -3.0, 0), (2, "y", 3.0, 0)]
    x_again = data["questions"][2]
    assert (x_again["partial"], x_again["upstream"], x_again["term"], x_again["before"]) == (
        -4.0, 1.0, -4.0, 1.0)
    assert x_again["lines"] == [
        "dh/dx += ∂m/∂x · dh/dm = -4.0000 · 1.0000 = -4.0000",
        "where ∂m/∂x = y, from m = x * y",  # the local partial as its rule writes it
        "dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000   (x is used 2 times: its grad is the "
        "sum of one term per use)"]


def test_fanout_x_times_x_is_one_question_with_both_terms():
    x = Value(3.0, "x")
    f = x * x
    f.label = "f"
    (q,) = data_of(teaching_html(f, "u", quiz=True))["questions"]
    assert q["answer"] == 6.0 and q["term"] == 6.0 and len(q["lines"]) == 4
    assert q["lines"][2] == "where ∂f/∂x = x, from f = x * x"  # one rule line for both uses


def test_a_rule_with_a_number_in_it_keeps_its_letter_and_gives_the_number():
    x = Value(-1.0, "x")
    f = x ** 3 + (x * 2.0).sigmoid()
    f.label = "f"
    lines = [line for q in data_of(teaching_html(f, "u", quiz=True))["questions"]
             for line in q["lines"] if line.startswith("where")]
    assert "where ∂q/∂x = n·x ** (n − 1) if n ≠ 0 else 0, from q = x ** 3.0000, with n = 3" \
        in lines
    assert any(line.startswith("where ∂s/∂r = s·(1 − s), from s = sigmoid(r)")
               for line in lines)
    assert not any("powc" in line for line in lines)  # the user's syntax, not record names


def test_forward_frames_come_first_so_questions_shift_by_them():
    plain = data_of(teaching_html(fanout_graph()[-1], "u", quiz=True))["questions"]
    both = data_of(teaching_html(fanout_graph()[-1], "u", quiz=True, forward=True))["questions"]
    assert [q["frame"] - 3 for q in both] == [q["frame"] for q in plain]


def test_no_quiz_and_no_zero_grad_adds_nothing():
    assert teaching_html(fanout_graph()[-1], "u", quiz=False) == ""


def test_why_zero_is_offered_for_each_zero_grad_once_it_is_final():
    w, x, loss = dead_relu_graph()
    why = data_of(teaching_html(loss, "u", quiz=False))["why"]
    assert sorted(entry["name"] for entry in why) == ["w", "x", "z"]
    assert all("dead relu" in entry["text"] for entry in why)


def test_quiz_answers_and_code_never_leave_the_block_unescaped():
    x = Value(1.0, "</script><b>x")
    f = x.relu() * 0.0
    fragment = teaching_html(f, "u", quiz=True)
    assert "</script><b>" not in fragment and data_of(fragment)["questions"]


# --- in the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no headless Chromium")
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


@pytest.fixture
def shots(tmp_path):
    kept = os.environ.get("AUTOGRAD_CORE_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def css(within, selector):
    return within.find_element("css selector", selector)


def shown_grad(driver, name):
    """The grad text of the value node called `name` in the frame on screen."""
    return driver.execute_script(
        "var f = Array.prototype.find.call(document.querySelectorAll('.frame'),"
        " function (s) { return !s.hidden; });"
        "var g = Array.prototype.find.call(f.querySelectorAll('g.node'), function (n) {"
        "  var t = n.querySelectorAll('text'); return t.length === 3 &&"
        "  t[0].textContent === arguments[0]; });"
        "var t = g.querySelectorAll('text'); return t[2].textContent;".replace(
            "arguments[0]", json.dumps(name)))


def answer(driver, text):
    box = css(driver, ".quiz input")
    box.clear()
    box.send_keys(text + "\n")
    return css(driver, ".quiz .feedback").text


def dark(driver, on):
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark" if on else "light"}]})


@browser_only
def test_quiz_page_right_wrong_and_not_a_number(browser, tmp_path, shots):
    page = save_steps(fanout_graph()[-1], tmp_path / "steps", quiz=True)
    browser.get(page.as_uri())
    assert css(browser, ".quiz").is_displayed()
    assert not css(browser, ".every-step").is_displayed()  # it would give every answer away
    css(browser, ".next").click()
    assert "What is dh/dm now?" in css(browser, ".quiz .ask").text
    assert not css(browser, ".next").is_enabled() and not css(browser, ".caption").is_displayed()
    assert shown_grad(browser, "m") == "grad ?" and shown_grad(browser, "x") == "grad ?"
    browser.find_element("tag name", "body").send_keys("\ue014")  # → is held back too
    assert "step 1 of 2" in css(browser, ".counter").text

    said = answer(browser, "one")
    assert said.startswith('"one" is not a number.') and "not counted" in said
    assert css(browser, ".quiz .score").text.startswith("Score: 0 right of 0 answered")
    said = answer(browser, "1")
    assert said.startswith("Right: dh/dm = 1.0000.")
    assert shown_grad(browser, "m") == "grad 1.0000" and shown_grad(browser, "x") == "grad ?"
    assert "x has 1 more use still to add" in css(browser, ".quiz .ask").text
    answer(browser, "1")
    assert css(browser, ".next").is_enabled() and css(browser, ".caption").is_displayed()

    css(browser, ".next").click()
    said = answer(browser, "-4")  # this step's term, without the 1 from the first use
    assert said.startswith("Not quite: you typed -4, but dh/dx = -3.0000.")
    assert "That is this step's term alone" in said and "fan-out" in said
    assert "dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000" in said
    assert shown_grad(browser, "x") == "grad -3.0000"
    browser.save_screenshot(str(shots / "quiz-wrong-answer.png"))
    said = answer(browser, "3.0001")  # within 0.1%
    assert said.startswith("Right: dh/dy = 3.0000.")
    browser.save_screenshot(str(shots / "quiz-right-answer.png"))
    score = css(browser, ".quiz .score").text
    assert score == "Score: 3 right of 4 answered (4 questions). Quiz done."
    assert css(browser, ".every-step").get_attribute("hidden") is None
    edges = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('.frame:not([hidden]) "
        "g.edge text'), function (t) { return t.textContent; });")
    assert [e for e in edges if e] == ["∂m/∂x = -4.0000", "∂m/∂y = 3.0000"]  # masks lifted
    dark(browser, True)
    browser.save_screenshot(str(shots / "quiz-dark.png"))
    dark(browser, False)


@browser_only
def test_quiz_slips_named_partial_alone_and_upstream_alone(browser, tmp_path):
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    g = f * 2.0  # upstream 2 for f, so a partial alone is not the answer
    g.label = "g"
    browser.get(save_steps(g, tmp_path / "steps", quiz=True).as_uri())
    css(browser, ".next").click()
    answer(browser, "2")  # dg/df = 2
    css(browser, ".next").click()
    said = answer(browser, "-4")  # ∂f/∂q = z alone
    assert "That is the local partial ∂f/∂q alone: multiply it by the upstream grad dg/df = 2" \
        in said
    said = answer(browser, "2")  # the upstream alone
    assert "That is the upstream grad dg/df alone" in said


@browser_only
def test_why_zero_button_explains_a_dead_relu(browser, tmp_path, shots):
    w, x, loss = dead_relu_graph()
    browser.get(save_steps(loss, tmp_path / "steps").as_uri())
    assert not css(browser, ".why").is_displayed()  # no grad is final yet
    for _ in range(3):
        css(browser, ".next").click()
    buttons = [b.text for b in browser.find_elements("css selector", ".why-zero")]
    assert sorted(buttons) == ["why zero? w", "why zero? x", "why zero? z"]
    button = next(b for b in browser.find_elements("css selector", ".why-zero")
                  if b.text == "why zero? w")
    button.click()
    text = css(browser, ".why-text").text
    assert text.startswith("dL/dw = 0: the one path from L to w crosses a gate")
    assert "a dead relu: h = relu(z) at z = -0.7" in text
    browser.save_screenshot(str(shots / "why-zero.png"))
    dark(browser, True)
    browser.save_screenshot(str(shots / "why-zero-dark.png"))
    dark(browser, False)


@browser_only
def test_inline_quiz_in_a_notebook_page_masks_and_checks(browser, tmp_path):
    view = show_steps(fanout_graph()[-1], quiz=True)
    page = tmp_path / "notebook.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"<div class='output'>{view._repr_html_()}</div></body></html>",
                    encoding="utf-8")
    browser.get(page.as_uri())
    css(browser, ".next").click()
    assert shown_grad(browser, "m") == "grad ?"
    assert answer(browser, "1").startswith("Right: dh/dm = 1.0000.")


@pytest.mark.parametrize("quiz", ["no", 1, None])
def test_quiz_must_be_true_or_false_not_merely_truthy(quiz, tmp_path):
    from autograd_core import save_steps, show_steps

    *_, loss = dead_relu_graph()
    with pytest.raises(TypeError, match="quiz must be True or False"):
        show_steps(loss, quiz=quiz)
    with pytest.raises(TypeError, match="quiz must be True or False"):
        save_steps(loss, tmp_path / "steps", quiz=quiz)
    assert not (tmp_path / "steps").exists()
