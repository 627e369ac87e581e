// Runs the script of a steps.html against a minimal fake DOM and prints the state after each
// click or key press, one line each: "counter | visible frames | prev/next enabled".
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
const captions = [...html.matchAll(/<section class="frame"[^>]* data-caption="([^"]*)"/g)];

function element(caption) {
  return { hidden: false, disabled: false, textContent: "", handlers: {},
           getAttribute: (name) => (name === "data-caption" ? caption : null),
           addEventListener(type, f) { this.handlers[type] = f; } };
}
const frames = captions.map((m) => element(m[1]));
const byId = { prev: element(), next: element(), counter: element() };
const page = { handlers: {}, querySelectorAll: () => frames, getElementById: (id) => byId[id],
               addEventListener(type, f) { this.handlers[type] = f; } };
new Function("document", script)(page);

function state() {
  const visible = frames.map((f) => (f.hidden ? "." : "X")).join("");
  return `${byId.counter.textContent} | ${visible} | ${byId.prev.disabled ? "-" : "prev"} ` +
         `${byId.next.disabled ? "-" : "next"}`;
}
const actions = { next: () => byId.next.handlers.click(), prev: () => byId.prev.handlers.click(),
                  right: () => page.handlers.keydown({ key: "ArrowRight" }),
                  left: () => page.handlers.keydown({ key: "ArrowLeft" }) };
console.log(state());
for (const name of process.argv.slice(3)) {
  actions[name]();
  console.log(state());
}
