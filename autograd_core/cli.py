"""The `autograd-core` command line: `trace` and `train`, and a safe expression parser; no maths.

Expressions are parsed with `ast` and checked against a whitelist; they are never passed to
eval or exec. Every user error prints one line and exits with status 2; every output path is
checked before any work; Ctrl-C prints one line and exits with status 130.
"""

from __future__ import annotations

import argparse
import ast
import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import OPS, Constant, Op, Value, __version__, apply, topological_order
from .examples import DATASETS, SEED
from .render import MAX_FRAMES, frame_count, slide_names

MAX_LENGTH = 500  # characters in an expression
MAX_DEPTH = 32  # nesting: parentheses, calls, unary signs; a flat chain like a+b-c is one level
MAX_STEP_FRAMES = MAX_FRAMES  # --frames draws the whole graph once per node: files grow as nodes²
INTERRUPTED = 130  # the shell's status for a command ended by SIGINT (128 + 2)

_BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
           ast.Pow: "__pow__"}
# Operators of one precedence chain without nesting: a - b + c parses as ((a - b) + c), and
# a ** b ** c as a ** (b ** c); what a reader sees as one level is one level.
_LEVEL = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product",
          ast.Pow: "power"}
FUNCTIONS: dict[str, Op] = {op.name: op for op in OPS if op.method}
"""The functions an expression may call: every op that Value offers as a method of its name."""


class UsageError(Exception):
    """A user mistake: reported as one line, exit status 2."""


@dataclass
class Trace:
    """A traced expression: its root, the named inputs, and each intermediate's short name
    with the part of the expression it stands for ({"q": "x + y", "f": "(x + y) * z"})."""

    root: Value
    inputs: dict[str, Value]
    names: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> tuple[ast.expr, set[str]]:
    """Parse `text` into a tree made only of whitelisted nodes; also return its variable names."""
    if len(text) > MAX_LENGTH:
        raise UsageError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise UsageError("expression is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        # Bytes that are not UTF-8 reach us as lone surrogates (U+DC80 + byte), by PEP 383.
        char = ord(text[err.start])
        what = f"byte {char - 0xDC00:#04x}" if 0xDC80 <= char <= 0xDCFF else f"U+{char:04X}"
        raise UsageError(f"expression is not valid UTF-8 text ({what} at character "
                         f"{err.start + 1})") from None
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        end = len(text.rstrip())
        if not err.offset or err.offset > end:  # Python says column 0 when the text ends early
            raise UsageError(f"syntax error in expression at column {end + 1}: it ends before "
                             f"it is complete (after {text.rstrip()[-10:]!r})") from None
        raise UsageError(f"syntax error in expression at column {err.offset}: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise UsageError("expression is too deeply nested or too large to parse") from None
    return tree, _check(tree)


def _check(tree: ast.expr) -> set[str]:
    # Iterative, so a hostile expression cannot exhaust the stack while being checked.
    names: set[str] = set()
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UsageError(f"expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise UsageError(f"only real numbers are allowed, not {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise UsageError(f"{node.id} is a function; call it as {node.id}(...)")
            names.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise UsageError(f"operator {_symbol(node.op)} is not allowed; use + - * / **")
            chained = node.right if isinstance(node.op, ast.Pow) else node.left
            for child in (node.left, node.right):
                flat = child is chained and _same_level(node, child)
                stack.append((child, depth if flat else depth + 1))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise UsageError(f"operator {_symbol(node.op)} is not allowed")
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call):
            _check_call(node)
            stack += [(arg, depth + 1) for arg in node.args]
        else:
            raise UsageError(f"{_describe(node)} is not allowed in an expression")
    return names


def _same_level(node: ast.BinOp, child: ast.expr) -> bool:
    return (isinstance(child, ast.BinOp)
            and _LEVEL.get(type(child.op)) == _LEVEL.get(type(node.op)))


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise UsageError(f"{_describe(node.func)} cannot be called; call a function by name")
    name = node.func.id
    if name not in FUNCTIONS:
        raise UsageError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise UsageError(f"{name}() takes plain positional arguments only")
    arity = FUNCTIONS[name].arity
    if len(node.args) != arity:
        raise UsageError(f"{name}() takes {arity} argument{'s' * (arity > 1)}, "
                         f"got {len(node.args)}")


def _describe(node: ast.AST) -> str:
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "a subscript",
             ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
             ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.Compare: "a comparison",
             ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.NamedExpr: "an assignment"}
    return kinds.get(type(node), type(node).__name__)


def _symbol(op: ast.AST) -> str:
    return type(op).__name__


def parse_variables(assignments: Sequence[str]) -> dict[str, float]:
    """`["x=-2", "y=5"]` → {"x": -2.0, "y": 5.0}."""
    variables: dict[str, float] = {}
    for item in assignments:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"variable must look like name=NUMBER, got {item!r}")
        if name in FUNCTIONS:
            raise UsageError(f"{name!r} is a function and cannot be a variable")
        if name in variables:
            raise UsageError(f"variable {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"variable {name} needs a number, got {number!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise UsageError(f"variable {name} needs a finite number, got {number!r}")
        variables[name] = value
    return variables


def trace(text: str, variables: dict[str, float]) -> Trace:
    """Build the graph of `text` at the given variables; each op node gets a short name in the
    slides' style (q = x + y, f = q * z), and `names` says what each name stands for."""
    tree, used = parse(text)
    missing = sorted(used - set(variables))
    if missing:
        raise UsageError(f"no value for {', '.join(missing)}; give it as {missing[0]}=NUMBER")
    unused = sorted(set(variables) - used)
    if unused:
        raise UsageError(f"variable {unused[0]} is not used in the expression")
    inputs = {name: Value(value, name) for name, value in variables.items()}
    try:
        root = _evaluate(tree, text, inputs)
    except (ArithmeticError, ValueError) as err:
        raise UsageError(str(err)) from None
    if not isinstance(root, Value):
        root = Value(root)
    return Trace(root, inputs, _name_intermediates(root, set(variables)))


def _name_intermediates(root: Value, taken: set[str]) -> dict[str, str]:
    """Give each op node, labelled by its source text until now, a short name instead, as the
    library's pictures name nodes (render.slide_names): the root f (unless a variable is
    called f), the others q, r, s, ... in the order they are computed, skipping the variables'
    names. Returns name → source text, in that order."""
    ops = [node for node in topological_order(root) if node.op is not None]
    short = slide_names(ops, root, taken)
    names: dict[str, str] = {}
    for node in ops:
        names[short[node]] = node.label
        node.label = short[node]
    return names


def _evaluate(tree: ast.expr, text: str, inputs: dict[str, Value]) -> Value:
    # Iterative post-order: a flat 250-term sum is one level to MAX_DEPTH but 250 deep as a
    # tree, and evaluating must not depend on how deep the caller's stack already is.
    done: dict[int, Value] = {}  # id(ast node) → its Value; the tree is alive throughout
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        children = _operands(node)
        if not children_done and children:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(children)]
            continue
        done[id(node)] = _evaluate_node(node, text, inputs, [done[id(c)] for c in children])
    return done[id(tree)]


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _evaluate_node(node: ast.expr, text: str, inputs: dict[str, Value], args: list[Value]
                   ) -> Value:
    """One node of the checked tree, its operands already evaluated (in order) into args."""
    if isinstance(node, ast.Constant):
        return Constant(node.value, ast.get_source_segment(text, node) or "")
    if isinstance(node, ast.Name):
        return inputs[node.id]
    if isinstance(node, ast.BinOp):
        left, right = args
        # A constant exponent stays a number: x ** n, with no gradient for n.
        constant = isinstance(node.op, ast.Pow) and not _has_variables(node.right)
        out = getattr(left, _BINARY[type(node.op)])(right.data if constant else right)
    elif isinstance(node, ast.UnaryOp):
        out = -args[0] if isinstance(node.op, ast.USub) else args[0]
    else:
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        out = apply(FUNCTIONS[node.func.id], *args)
    if out.op is not None and not _has_variables(node):
        # Numbers only (-1, 2 * 3): a number of the formula, drawn and treated as a Constant.
        out = Constant(out.data)
    if not out.label:
        out.label = ast.get_source_segment(text, node) or ""
    return out


def _has_variables(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def format_number(x: float) -> str:
    """x to 4 decimals (-4.0000), or in scientific notation (2.0000e+300) where fixed decimals
    would print hundreds of digits or only zeros."""
    return f"{x:.4f}" if x == 0 or 1e-4 <= abs(x) < 1e9 else f"{x:.4e}"


def format_table(root: Value, names: dict[str, str] | None = None) -> str:
    """One row per node, inputs first: name, its op as written (x ** 2), value, gradient ("—"
    for a number of the formula, which takes none) and, given `names` (name → expression),
    what each short name stands for."""
    names = names or {}
    rows = [("node", "op", "value", "grad", "is" if names else "")]
    for node in topological_order(root):
        name = _cell(node)
        op = node.op.written(*(_operand(p) for p in node.parents)) if node.op else ""
        grad = "—" if node.constant and node is not root else format_number(node.grad)
        rows.append((name, op, format_number(node.data), grad, names.get(name, "")))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}"
        f"{'  ' + r[4] if r[4] else ''}".rstrip() for r in rows)


def _cell(node: Value) -> str:
    return node.label or f"{node.data:g}"  # constants are shown by their value


def _operand(node: Value) -> str:
    """A node as an operand in the op column: its name, a negative number in parentheses."""
    text = _cell(node)
    return f"({text})" if text.startswith("-") else text


def _trace_command(args: argparse.Namespace) -> None:
    # Every output path is checked before any work: a typo must not cost a render.
    if args.output is not None:
        from .export import check_output

        _check_path(check_output, args.output)
    if args.old_steps is not None:
        if args.frames is not None:
            raise UsageError("give --frames DIR only (--steps DIR is its old name)")
        print("autograd-core: trace --steps DIR is now --frames DIR (train's --steps counts "
              "training steps); the old spelling will go", file=sys.stderr)
        args.frames = args.old_steps
    if args.forward and args.frames is None:
        raise UsageError("--forward adds the forward pass to --frames DIR; give --frames too")
    if args.quiz and args.frames is None:
        raise UsageError("--quiz makes the page of --frames DIR a quiz; give --frames too")
    if args.frames is not None:
        from .files import check_folder

        _check_path(check_folder, args.frames)
    result = trace(args.expression, parse_variables(args.variables))
    if args.frames is not None:
        _check_frames(result.root, args.forward)
    try:
        if result.root.requires_grad:  # numbers only ("3", "2 * 3") take no gradient
            result.root.backward()
    except (ArithmeticError, ValueError) as err:
        raise UsageError(str(err)) from None
    print(format_table(result.root, result.names))
    if args.output is not None:
        from .export import save

        print(f"graph: {_report(save, result.root, args.output)}")
    if args.frames is not None:
        from .export import save_steps

        page = _report(functools.partial(save_steps, forward=args.forward, quiz=args.quiz),
                       result.root, args.frames)
        print(f"frames: {page}")


def _check_path(check: Callable[[str], object], path: str) -> None:
    try:
        check(path)
    except (OSError, ValueError) as err:
        raise UsageError(_path_message(err, path)) from None


def _path_message(err: Exception, path: str) -> str:
    """err as one line that names the path the user gave, never a temporary file of ours."""
    if isinstance(err, OSError) and err.strerror:
        named = str(err.filename or "")
        if named and (named == path or named.startswith(path.rstrip("/") + "/")):
            return f"cannot write {named!r}: {err.strerror}"
        return f"cannot write {path!r}: {err.strerror}"
    message = str(err)
    if not path or path not in message:  # the checks' own messages mostly name it
        message = f"cannot write {path!r}: {message}"
    return message


def _check_frames(root: Value, forward: bool) -> None:
    nodes = topological_order(root)
    frames = frame_count(root, forward)
    if frames > MAX_STEP_FRAMES:
        raise UsageError(f"--frames would draw {frames} frames of all {len(nodes)} nodes each; "
                         f"the limit is {MAX_STEP_FRAMES} frames: step through a smaller "
                         f"expression, or leave out --frames")


def _report(writer: Callable[[Value, str], object], root: Value, path: str) -> str:
    try:
        return str(writer(root, path))
    except (OSError, ValueError) as err:
        raise UsageError(_path_message(err, path)) from None
    except RuntimeError as err:  # no renderer installed
        raise UsageError(f"cannot write {path!r}: {err}") from None


# What `train` offers, here so that --help lists them without importing nn; a test checks they
# are nn's own (nn.ACTIVATIONS, nn.recipes.OPTIMIZERS and LOSSES).
ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "sigmoid")
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("hinge", "logistic", "mse", "cross_entropy", "multiclass_hinge")


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _hidden(text: str) -> list[int]:
    """--hidden 16,16 → [16, 16]: positive whole numbers, comma-separated."""
    parts = text.split(",")
    if not all(p.strip().isdigit() and int(p) >= 1 for p in parts):
        raise UsageError(f"--hidden must be layer sizes such as 16,16 (positive whole numbers, "
                         f"comma-separated); got {text!r}")
    sizes = [int(p) for p in parts]
    if len(sizes) > 8 or max(sizes) > 256:
        raise UsageError(f"--hidden allows up to 8 layers of up to 256 units (a scalar engine "
                         f"takes minutes beyond); got {text!r}")
    return sizes


def _learning_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not 0.0 < rate < float("inf"):
        raise UsageError(f"--lr must be a positive number such as 0.5; got {text!r}")
    return rate


def _train_command(args: argparse.Namespace) -> None:
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if not 0 <= args.seed < 2**32:  # numpy's generators take these seeds and no others
        raise UsageError(f"--seed must be from 0 to 2**32 - 1 = {2**32 - 1}, got {args.seed}")
    chosen = dict(activation=_choice("--activation", args.activation, ACTIVATIONS),
                  optimizer=_choice("--optimizer", args.optimizer, OPTIMIZERS),
                  loss=None if args.loss is None else _choice("--loss", args.loss, LOSSES),
                  hidden=None if args.hidden is None else _hidden(args.hidden),
                  lr=None if args.lr is None else _learning_rate(args.lr))
    if args.scrubber is not None:
        from .files import check_target

        _check_path(check_target, args.scrubber)
    from .nn.recipes import report, train  # nn stands on the engine; import it only to train

    # train() checks --out and its three files before the first step, and writes them last.
    try:
        result = train(args.dataset, args.out, steps=args.steps, seed=args.seed,
                       progress=not args.no_progress, flow=args.flow, compile=args.compile,
                       scrubber=args.scrubber, flow_step=args.flow_step, **chosen)
    except OSError as err:
        # The scrubber's page may sit outside --out: name whichever the failed file belongs to.
        scrubber_folder = os.path.dirname(os.path.abspath(args.scrubber or args.out))
        failed = os.path.dirname(os.path.abspath(str(err.filename or args.out)))
        given = args.scrubber if args.scrubber and failed == scrubber_folder \
            and failed != os.path.abspath(args.out) else args.out
        raise UsageError(_path_message(err, given)) from None
    except (ValueError, RuntimeError) as err:  # RuntimeError: --flow, no renderer
        raise UsageError(str(err)) from None
    report(args.dataset, result)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `autograd-core`."""
    parser = argparse.ArgumentParser(
        prog="autograd-core",
        description="Trace an expression's graph and gradients, or train a small network.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    tr = commands.add_parser(
        "trace", help="print every node's value and gradient; draw the graph",
        description="Evaluate EXPRESSION at the given variables, run backward, and print a table "
                    "of every node's value and gradient. Functions: " + ", ".join(FUNCTIONS),
        epilog='examples:\n  autograd-core trace "(x + y) * z" x=-2 y=5 z=-4\n'
               '  autograd-core trace "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 '
               "w2=-3 -o neuron.svg --frames steps/\n"
               '  autograd-core trace "3 * 4"            # no variables: numbers only\n'
               'an expression that starts with "-" goes after "--", which ends the options:\n'
               '  autograd-core trace -o g.svg -- "-x * y" x=2 y=3',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tr.add_argument("expression", metavar="EXPRESSION",
                    help='e.g. "(x + y) * z"; put "--" before one starting with "-"')
    tr.add_argument("variables", nargs="*", metavar="NAME=NUMBER",
                    help="a value for each variable in EXPRESSION, e.g. x=-2 y=5 z=-4; none "
                         "if it has none")
    tr.add_argument("-o", "--output", metavar="FILE", help="write the graph (.svg, .png or .dot)")
    tr.add_argument("--frames", metavar="DIR",
                    help=f"write the backward pass to step through: steps.html and one SVG "
                         f"per step (at most {MAX_STEP_FRAMES} frames)")
    tr.add_argument("--forward", action="store_true",
                    help="with --frames: the forward pass's frames first")
    tr.add_argument("--quiz", action="store_true",
                    help="with --frames: the page hides each step's new gradients until the "
                         "student types them, and checks them")
    # The old name of --frames: it still works, with a note, so scripts keep running.
    tr.add_argument("--steps", dest="old_steps", metavar="DIR", help=argparse.SUPPRESS)
    tr.set_defaults(run=_trace_command)

    tn = commands.add_parser(
        "train", help="train a small MLP on a 2-D dataset with a progress bar",
        description="Train an MLP with SGD (lr 1.0 → 0.1), print the final loss and accuracy, "
                    "and write NAME_boundary.png, NAME_loss.png and NAME_model.json. The "
                    "activation, hidden sizes, learning rate, optimizer and loss can be "
                    "changed; every learning rate decays linearly to a tenth.",
        epilog="examples:\n  autograd-core train moons            # micrograd's demo\n"
               "  autograd-core train spiral --steps 200 --seed 3 --out runs/\n"
               "  autograd-core train moons --activation sigmoid --lr 3 --hidden 16,16\n"
               "  autograd-core train moons --optimizer adam --scrubber out/moons.html",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tn.add_argument("dataset", choices=DATASETS, help="which dataset")
    tn.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    tn.add_argument("--seed", type=int, default=SEED, help=f"data and weights (default {SEED})")
    tn.add_argument("--out", default="out", metavar="DIR", help="output folder (default out/)")
    tn.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    tn.add_argument("--flow", action="store_true",
                    help="record each layer's gradient flow; also write NAME_flow.png and "
                         "NAME_network.svg")
    tn.add_argument("--flow-step", type=int, metavar="STEP",
                    help="the step NAME_network.svg draws, weights and gradients (with --flow; "
                         "default: the step whose weight gradients were largest)")
    tn.add_argument("--compile", action="store_true",
                    help="replay the loss as a compiled program (autograd_core.compile): the "
                         "same steps, without building a graph each step")
    tn.add_argument("--activation", default="relu", metavar="NAME",
                    help=f"hidden layers' activation: {', '.join(ACTIVATIONS)} (default relu)")
    tn.add_argument("--hidden", metavar="SIZES",
                    help="hidden layer sizes, comma-separated (default 16,16; 8,8 for xor)")
    tn.add_argument("--lr", metavar="RATE",
                    help="starting learning rate (default: 1.0 for sgd, 0.1 for momentum, "
                         "0.05 for adam)")
    tn.add_argument("--optimizer", default="sgd", metavar="NAME",
                    help=f"{', '.join(OPTIMIZERS)} (default sgd; momentum is SGD with 0.9)")
    tn.add_argument("--loss", metavar="NAME",
                    help=f"{', '.join(LOSSES)} (default: hinge for two classes, "
                         f"cross_entropy for spiral's three; the first three need two classes)")
    tn.add_argument("--scrubber", metavar="FILE.html",
                    help="also write a page with a slider over training: decision boundary, "
                         "loss and gradient flow at each step (records both)")
    tn.set_defaults(run=_train_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 for any user error, 130 after
    Ctrl-C)."""
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except KeyboardInterrupt:
        # The user asked to stop: say so in one line, not a traceback. Files being written are
        # left as they were (autograd_core.files).
        print("autograd-core: interrupted", file=sys.stderr)
        return INTERRUPTED
    except UsageError as err:
        print(f"autograd-core: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `autograd-core trace ... | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
