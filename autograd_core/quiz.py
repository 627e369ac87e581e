"""The stepper page's teaching parts: a quiz that hides each step's new gradients until the
student types them (`quiz=True` on `show_steps` and `save_steps`), and a "why zero?" button for
every node whose gradient ends 0 or tiny (autograd_core.explain).

Both are one HTML block with its data and its script, added inside the stepper's element; they
watch which frame the stepper shows and never change its own script.
"""

from __future__ import annotations

import json
from typing import Any

from .engine import Value
from .explain import TINY, explain_in
from .render import (
    DrawOptions,
    _bracket,
    _d,
    _number,
    _Picture,
)

RTOL = 1e-3  # an answer within 0.1% of the grad is right (or equal to it as the page rounds it)


def teaching_html(root: Value, uid: str, *, quiz: bool, options: DrawOptions | None = None,
                  forward: bool = False, document_keys: bool = False) -> str:
    """The quiz (if quiz) and the "why zero?" buttons for a stepper of root drawn with these
    options, inside the element with id uid; "" when there is neither."""
    if not isinstance(quiz, bool):  # quiz="no" is truthy: a typo would turn the quiz on
        raise TypeError(f"quiz must be True or False, got {type(quiz).__name__}: {quiz!r}")
    picture = _Picture(root, options or DrawOptions())
    offset = picture.n_steps if forward else 0  # the forward frames come first
    questions, final = _questions(picture, offset)
    why = _why_zero(picture, final)
    if not why and not (quiz and questions):
        return ""
    data = {"uid": uid, "quiz": quiz, "questions": questions if quiz else [], "why": why,
            "rtol": RTOL, "keys": "document" if document_keys else "root"}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return _BLOCK.replace("{uid}", uid).replace("{data}", payload)


def _questions(picture: _Picture, offset: int) -> tuple[list[dict[str, Any]], dict[Value, int]]:
    """One question per (step, input that takes a grad): its new running grad, with the
    arithmetic that gives it; and the frame at which each node's grad is complete."""
    questions: list[dict[str, Any]] = []
    final: dict[Value, int] = {}
    r = picture.name[picture.root]
    index = picture.index
    for frame in picture.frames():
        step = frame.step
        assert step is not None and frame.pending is not None and frame.before is not None
        n = offset + frame.index
        if step.seed:
            final[step.node] = n
            continue
        gate = picture.name[step.node]
        terms: dict[Value, list[tuple[Any, Any]]] = {}
        uses: dict[Value, list[int]] = {}
        for k, (parent, d, c) in enumerate(zip(step.parents, step.partials,
                                                step.contributions)):
            if c is not None and not parent.constant:
                terms.setdefault(parent, []).append((d, c))
                uses.setdefault(parent, []).append(k)
        rules = _rules(picture, step.node)
        edges = [f"e{index[step.node]}_{k}" for k in range(len(step.parents))]
        for parent, parts in terms.items():
            p = picture.name[parent]
            answer = _number(frame.grads[parent])
            before = frame.before.get(parent)
            left = frame.pending[parent]
            if left == 0:
                final[parent] = n
            lines = [f"{_d(r, p)} += {step.node.op.name}'s custom rule (vjp) of "  # type: ignore[union-attr]
                     f"{_d(r, gate)} = {picture._term(step.grad)} → {picture._num(c)}"
                     if d is None else
                     f"{_d(r, p)} += ∂{_bracket(gate)}/∂{_bracket(p)} · {_d(r, gate)} = "
                     f"{picture._num(d)} · {picture._term(step.grad)} = {picture._num(c)}"
                     for d, c in parts]
            lines += list(dict.fromkeys(rules[k] for k in uses[parent] if rules[k]))
            if before is not None or len(parts) > 1:
                sums = ([] if before is None else [f"{picture._num(before)} (so far)"]) + [
                    picture._term(c) for _, c in parts]
                lines.append(f"{_d(r, p)} = {' + '.join(sums)} = {picture._num(answer)}   "
                             f"({p} is used {picture.uses[parent]} times: its grad is the sum "
                             f"of one term per use)")
            questions.append({
                "frame": n, "step": frame.index, "node": f"v{index[parent]}", "edges": edges,
                "name": p, "ask": _d(r, p), "gate": picture._defines(step.node),
                "answer": answer, "shown": picture._num(answer),
                # a custom rule (vjp) has no partial: null, which no typed number is near
                "partial": (None if any(d is None for d, _ in parts)
                            else sum(_number(d) for d, _ in parts)),
                "upstream": _number(step.grad),
                "term": sum(_number(c) for _, c in parts),
                "before": None if before is None else _number(before),
                "upstreamName": _d(r, gate), "partialName": f"∂{_bracket(gate)}/∂{_bracket(p)}",
                "left": left, "lines": lines})
    return questions, final


def _rules(picture: _Picture, node: Value) -> list[str]:
    """Per input of node's op, its local partial as the op's rule writes it in the picture's
    names ("where ∂u/∂t = u·(1 − u), from u = sigmoid(t)"); "" where the rule cannot be
    written. A number in the formula keeps the rule's own letter, its value given: "n = 3"."""
    op = node.op
    assert op is not None
    gate = picture.name[node]
    names = tuple(op.inputs[k] if parent.constant else picture.name[parent]
                  for k, parent in enumerate(node.parents))
    numbers = [f"{op.inputs[k]} = {parent.data:g}" for k, parent in enumerate(node.parents)
               if parent.constant]
    given = f", with {', '.join(numbers)}" if numbers else ""
    lines = []
    for k, parent in enumerate(node.parents):
        written = op.partial_written(k, out=gate, inputs=names)
        lines.append("" if not written or "∂" in written or parent.constant else
                     f"where ∂{_bracket(gate)}/∂{_bracket(picture.name[parent])} = {written}, "
                     f"from {picture._defines(node)}{given}")
    return lines


def _why_zero(picture: _Picture, final: dict[Value, int]) -> list[dict[str, Any]]:
    """A "why zero?" entry for each node whose final grad is 0 or tiny: its explanation, from
    the frame at which the grad is complete."""
    entries = []
    for node, frame in final.items():
        if node is picture.root or node.constant:
            continue
        why = explain_in(node, picture.root, picture.order, picture.full, TINY)
        if why.small:
            entries.append({"frame": frame, "node": f"v{picture.index[node]}",
                            "name": picture.name[node], "text": str(why)})
    return entries


# The block's script finds its stepper by uid, reads which frame is shown (the one section not
# hidden) whenever that changes, and masks, asks and explains; the stepper's own script is
# left as it is. Its keys and Next are held back only while a question is open.
_BLOCK = """<div class="autograd-teach">
<style>
  /* Their own background and text colours, buttons included (the stepper's follow the
     host's theme, dark buttons on a dark page): readable on a light or a dark host page, and
     left alone by a browser's forced dark mode. */
  #{uid} .quiz, #{uid} .why { border: 1px solid #9ca3af; border-radius: 6px;
      padding: 0.5em 0.8em; margin: 0.6em 0; background: #ffffff; color: #111827;
      color-scheme: only light; }
  #{uid} .quiz button, #{uid} .why button { background: #f3f4f6; color: #111827;
      border: 1px solid #6b7280; }
  #{uid} .quiz input { font: inherit; width: 9em; padding: 0.15em 0.4em; margin: 0 0.4em; }
  #{uid} .quiz .feedback { font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace;
      font-size: 0.92em; white-space: pre-wrap; margin-top: 0.4em; }
  #{uid} .quiz .right { color: #15803d; font-weight: bold; }
  #{uid} .quiz .wrong { color: #b91c1c; font-weight: bold; }
  #{uid} .quiz .nan { color: #b45309; font-weight: bold; }
  #{uid} .quiz .score { font-size: 0.9em; margin-top: 0.3em; }
  #{uid} .why button { margin: 0.2em 0.4em 0.2em 0; font-size: 0.95em; padding: 0.2em 0.7em; }
  #{uid} .why pre { white-space: pre-wrap; font-size: 0.9em; margin: 0.4em 0; }
</style>
<div class="quiz" hidden>
  <div class="ask"></div>
  <div class="answer"><label><span class="ask-short"></span> =<input type="text"
    inputmode="decimal" autocomplete="off" spellcheck="false" aria-label="your answer"></label>
    <button type="button" class="check">Check</button></div>
  <div class="feedback" aria-live="polite"></div>
  <div class="score"></div>
</div>
<div class="why" hidden><b>Why is this gradient zero?</b> <span class="why-buttons"></span>
  <pre class="why-text" hidden></pre></div>
<script type="application/json" class="teach-data">{data}</script>
<script>
(function () {
  var root = document.getElementById("{uid}");
  if (!root) { return; }
  var block = root.querySelector(".autograd-teach");
  var data = JSON.parse(block.querySelector(".teach-data").textContent);
  var frames = root.querySelectorAll(".frame");
  var caption = root.querySelector(".caption");
  var next = root.querySelector(".next");
  var quiz = block.querySelector(".quiz"), why = block.querySelector(".why");
  var input = quiz.querySelector("input"), feedback = quiz.querySelector(".feedback");
  var answered = {}, right = 0, asked = data.questions.length;
  var saved = [];  // [element, its text] for every text masked, to restore
  var last = -1;  // the frame update() saw last: feedback is about it alone
  caption.parentNode.insertBefore(quiz, caption);  // the quiz sits where the arithmetic is
  caption.parentNode.insertBefore(why, caption.nextSibling);

  function current() {
    for (var i = 0; i < frames.length; i++) { if (!frames[i].hidden) { return i; } }
    return 0;
  }
  function open(k) {  // the first unanswered question of frame k, or null
    for (var i = 0; i < data.questions.length; i++) {
      var q = data.questions[i];
      if (q.frame === k && !answered[i]) { return i; }
    }
    return null;
  }
  function texts(frame, id) {
    var el = frame.querySelector("[id$='-" + id + "']");
    return el ? el.querySelectorAll("text") : [];
  }
  function mask(k) {
    // Last masked first: a text masked twice (two questions on one edge) gets its own back.
    saved.reverse().forEach(function (pair) { pair[0].textContent = pair[1]; });
    saved = [];
    var frame = frames[k];
    data.questions.forEach(function (q, i) {
      if (answered[i] || q.frame > k) { return; }
      var grad = texts(frame, q.node);
      if (grad.length) {  // name, data, grad: the grad hides until answered
        var el = grad[grad.length - 1];
        saved.push([el, el.textContent]);
        el.textContent = "grad ?";
      }
      if (q.frame !== k) { return; }
      q.edges.forEach(function (id) {  // the step's partials too: part of the question
        Array.prototype.forEach.call(texts(frame, id), function (el) {
          saved.push([el, el.textContent]);
          el.textContent = el.textContent.replace(/=.*$/, "= ?");
        });
      });
    });
  }
  function number(text) {
    var t = text.trim().replace(/\\u2212/g, "-").replace(/\\s+/g, "");
    var n = "[+-]?(?:\\\\d+(?:\\\\.\\\\d*)?|\\\\.\\\\d+)(?:e[+-]?\\\\d+)?";
    var m = new RegExp("^(" + n + ")(?:/(" + n + "))?$", "i").exec(t);
    if (!m) { return NaN; }
    var v = parseFloat(m[1]);
    return m[2] === undefined ? v : v / parseFloat(m[2]);
  }
  function near(a, b) {
    if (a === null || b === null) { return false; }
    return Math.abs(a - b) <= data.rtol * Math.abs(b) || Math.abs(a - b) < 1e-12;
  }
  function matches(typed, q) {
    return near(typed, q.answer) || near(typed, parseFloat(q.shown));
  }
  function diagnosis(typed, q) {  // the usual slips, named
    if (q.before !== null && near(typed, q.term) && !near(q.term, q.answer)) {
      return "That is this step's term alone. " + q.name + " was already given " + q.before +
        " by an earlier use: a grad is the sum over every use (fan-out), so add it.";
    }
    if (near(typed, q.partial) && !near(q.upstream, 1)) {
      return "That is the local partial " + q.partialName + " alone: multiply it by the " +
        "upstream grad " + q.upstreamName + " = " + q.upstream + ".";
    }
    if (near(typed, q.upstream) && q.partial !== null && !near(q.partial, 1)) {
      return "That is the upstream grad " + q.upstreamName + " alone: multiply it by the " +
        "local partial " + q.partialName + " = " + q.partial + ".";
    }
    if (near(typed, -q.answer)) { return "The size is right; check the sign."; }
    return "";
  }
  function scoreText() {
    var done = Object.keys(answered).length;
    var s = "Score: " + right + " right of " + done + " answered (" + asked + " questions)";
    return done === asked ? s + ". Quiz done." : s;
  }
  function say(kind, head, rest) {
    feedback.textContent = "";
    var b = document.createElement("span");
    b.className = kind;
    b.textContent = head;
    feedback.appendChild(b);
    feedback.appendChild(document.createTextNode(rest ? "\\n" + rest : ""));
  }
  function check() {
    var i = open(current());
    if (i === null) { return; }
    var q = data.questions[i], text = input.value;
    if (!text.trim()) { say("nan", "Type a number first.", ""); return; }
    var typed = number(text);
    if (!isFinite(typed)) {  // never counted: the student is told, and types again
      say("nan", JSON.stringify(text.trim()) + " is not a number.",
          "Type one, such as -4, 0.5 or 1/2 (not counted).");
      input.select();  // typing again replaces it
      return;
    }
    answered[i] = true;
    var arithmetic = q.lines.join("\\n");
    if (matches(typed, q)) {
      right += 1;
      say("right", "Right: " + q.ask + " = " + q.shown + ".", arithmetic);
    } else {
      var hint = diagnosis(typed, q);
      say("wrong", "Not quite: you typed " + text.trim() + ", but " + q.ask + " = " +
          q.shown + ".", (hint ? hint + "\\n" : "") + arithmetic);
    }
    input.value = "";
    update();
  }
  function update() {
    var k = current(), i = open(k);
    if (k !== last) { feedback.textContent = ""; last = k; }
    mask(k);
    if (data.quiz) {
      quiz.hidden = false;
      var waiting = i !== null;
      caption.hidden = waiting;  // the arithmetic would give the answer away
      quiz.querySelector(".answer").hidden = !waiting;
      if (waiting) {
        var q = data.questions[i];
        var more = q.left > 0 ? " (" + q.name + " has " + q.left + " more use" +
          (q.left > 1 ? "s" : "") + " still to add: type the sum so far)" : "";
        quiz.querySelector(".ask").textContent = "Quiz, backward step " + q.step + ": " +
          q.gate + ". What is " + q.ask + " now?" + more;
        quiz.querySelector(".ask-short").textContent = q.ask;
        next.disabled = true;
      } else {
        quiz.querySelector(".ask").textContent = asked ? "Quiz: press Next for the next " +
          "step." : "";
        next.disabled = k === frames.length - 1;
      }
      quiz.querySelector(".score").textContent = scoreText();
      var every = root.querySelector(".every-step");
      if (every) { every.hidden = Object.keys(answered).length < asked; }
    }
    var buttons = why.querySelector(".why-buttons"), shown = 0;
    buttons.textContent = "";
    data.why.forEach(function (w) {
      if (w.frame > k || (i !== null && w.frame === k)) { return; }
      var b = document.createElement("button");
      b.type = "button";
      b.className = "why-zero";
      b.textContent = "why zero? " + w.name;
      b.addEventListener("click", function () {
        var pre = why.querySelector(".why-text");
        pre.textContent = w.text;
        pre.hidden = false;
      });
      buttons.appendChild(b);
      shown += 1;
    });
    why.hidden = shown === 0;
    if (!shown) { why.querySelector(".why-text").hidden = true; }
  }
  function held(event) {  // Next and the right arrow wait while a question is open
    return data.quiz && open(current()) !== null;
  }
  quiz.querySelector(".check").addEventListener("click", check);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { check(); event.preventDefault(); }
    event.stopPropagation();  // arrows move the caret here, not the stepper
  });
  var keys = data.keys === "document" ? document : root;
  keys.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" && held(event)) {
      event.stopImmediatePropagation();
      event.preventDefault();
      input.focus();
    }
  }, true);
  root.addEventListener("click", function (event) {
    if (event.target === next && held(event)) { event.stopImmediatePropagation(); }
  }, true);
  new MutationObserver(update).observe(root.querySelector(".picture"),
                                       {attributes: true, subtree: true,
                                        attributeFilter: ["hidden"]});
  update();
})();
</script>
</div>"""
