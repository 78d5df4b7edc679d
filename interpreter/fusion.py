"""Arithmetic expressions compiled as one unit.

An expression such as `(+ (* a (sin y)) (* b y) 0.1)` is four primitive calls, each of which
checks its arguments, and under `gradient` four tape entries, each a new tagged value.  When
every operation of a tree is an arithmetic primitive of the global environment and every leaf a
variable or a numeric literal, the compiler emits, before the ordinary calls:

- for leaves that are all floats (or exact integers, where the tree only adds, subtracts and
  multiplies), the Python expression itself;
- for leaves of which some are values on a tape with float primals (a first derivative in
  reverse mode), one tape entry for the whole tree, holding the partial derivative with respect
  to each leaf: what the backward pass would have accumulated through the entries of the
  separate operations, with one new tagged value instead of one per operation.  A recorder
  generated here for the tree computes it, from the rules of the operations.

Under a derivative of a gradient (a Hessian), the leaves on the tape carry an outer
perturbation; second_order.py records the tree's one entry for them, its partials perturbed in
turn.

A comparison of two such expressions may be fused as well, for plain numbers only: it has no
derivative, and perturbed numbers are compared by the primitives, which look under them.

Anything else — another kind of number, a perturbation of forward mode, a teaching tape, an
operation that raises (a division by zero, a domain error, an overflow), a partial that is not
finite — falls through to the ordinary calls, which give the exact behaviour and errors.  So
do all calls once a program redefines one of the primitives: the emitted code checks that each
global still holds its primitive.  Arithmetic has no side effects, so computing a value twice
(first here, then by the calls) cannot be seen; a global variable that is not bound reads as
"not computed here", and the calls report it where it stands among the arguments.
"""

from __future__ import annotations

import math

from ..ad.tags import Dual, Tracked
from .core import Call, Const, GlobalRef, LocalRef

FALL_THROUGH = object()     # "not computed here": the emitted code then makes the calls

MAX_OPERATIONS = 40     # a bigger tree is split: its subtrees are fused one by one

# The operations: + - * / with any number of arguments (chained left to right, as the primitives
# compute), unary functions of the math module, square.  Exact integers may be leaves where
# Python's operator computes what the primitive does (_EXACT_SAFE).
_BINARY_CHAIN = ("+", "-", "*", "/")
_UNARY = {
    # name: (math function, partial as source in x (argument) and v (value))
    "sin": ("sin", "cos({x})"),
    "cos": ("cos", "-sin({x})"),
    "tan": ("tan", "1 + {v} * {v}"),
    "exp": ("exp", "{v}"),
    "log": ("log", "1 / {x}"),
    "sqrt": ("sqrt", "1 / (2 * {v})"),
    "tanh": ("tanh", "1 - {v} * {v}"),
}
FUSIBLE = frozenset(_BINARY_CHAIN) | frozenset(_UNARY) | {"square"}
# A comparison of two arithmetic expressions may be the root: a truth value, no derivative.
COMPARISONS = frozenset(("=", "<", ">", "<=", ">="))
_EXACT_SAFE = frozenset(("+", "-", "*", "square"))
MATH_FUNCTIONS = {name: getattr(math, function) for name, (function, _) in _UNARY.items()}


class Tree:
    """A fusible expression: operations in evaluation order over numbered leaves.

    ``operations`` holds (name, operands) per operation, an operand being ("leaf", i),
    ("const", value) or ("op", k) for the k-th operation; the last operation is the root.
    ``leaves`` are the distinct variables, in order of first appearance: a local one's
    Variable, a global one's name."""

    __slots__ = ("operations", "inexact", "leaves", "names", "exact_safe", "compares")

    def __init__(self):
        self.operations: list[tuple] = []
        self.inexact: list[bool] = []       # per operation: whether its value is a float
        self.leaves: list = []
        self.names: set[str] = set()
        self.exact_safe = True
        self.compares = False               # the root is a comparison

    def recorder(self):
        """``record(leaf, …)``: the expression's value as one entry on the leaves' tape, when
        they are plain numbers and values on one tape with float primals; FALL_THROUGH
        otherwise, where an operation raises, or where a partial derivative is not finite."""
        assert not self.compares, "a comparison has no derivative to record"
        source, namespace = _recorder_source(self)
        exec(compile(source, "<fused arithmetic>", "exec"), namespace)
        return namespace["record"]


def _lazy_second_order(tree: Tree):
    """A stand-in for the second-order recorder of ``tree`` that makes it at its first call:
    only a Hessian of the expression needs it."""
    made = []

    def second(*leaves):
        if not made:
            if not any(leaf.__class__ is Dual or (leaf.__class__ is Tracked and leaf.primal.__class__ is Dual)
                       for leaf in leaves):
                return FALL_THROUGH         # no outer derivative here (yet): nothing to make
            from .second_order import make_recorder      # which imports this module
            made.append(make_recorder(tree))
        return made[0](*leaves)
    return second


def lazy_recorder(tree: Tree, namespace: dict, name: str):
    """A stand-in for ``tree.recorder()`` under ``namespace[name]``, which makes the recorder
    when first called and puts it there: most expressions (the prelude's) never meet a tape,
    and start-up should not pay for them."""
    def record(*leaves):
        recorder = namespace[name] = tree.recorder()
        return recorder(*leaves)
    return record


def analyze(node, is_builtin_procedure) -> Tree | None:
    """The tree of ``node`` if it can be fused (at least one operation, a leaf that is a
    variable, no more than MAX_OPERATIONS operations), else None."""
    compares = _is_comparison(node, is_builtin_procedure)
    if not compares and not _is_operation(node, is_builtin_procedure):
        return None
    tree = Tree()
    tree.compares = compares
    leaf_index: dict = {}
    # post-order without recursion: (node, operands collected so far)
    stack = [(node, [])]
    result = None
    while stack:
        current, operands = stack[-1]
        if len(operands) < len(current.args):
            arg = current.args[len(operands)]
            if arg.__class__ is LocalRef or arg.__class__ is GlobalRef:
                leaf = arg.var if arg.__class__ is LocalRef else arg.name
                index = leaf_index.get(leaf)
                if index is None:
                    index = leaf_index[leaf] = len(tree.leaves)
                    tree.leaves.append(leaf)
                operands.append(("leaf", index))
            elif arg.__class__ is Const and (arg.value.__class__ is int or arg.value.__class__ is float):
                if arg.value.__class__ is int and arg.value == 0:
                    # the calls keep an exact 0, which no tangent or partial is multiplied by
                    # (an overflowed tangent times 0 would be NaN); this unit computes in floats
                    return None
                operands.append(("const", arg.value))
            elif _is_operation(arg, is_builtin_procedure):
                if len(stack) + len(tree.operations) >= MAX_OPERATIONS:
                    return None
                stack.append((arg, []))
            else:
                return None
            continue
        stack.pop()
        name = current.fn.name
        tree.names.add(name)
        if name in COMPARISONS:         # only ever the root
            _append(tree, name, operands)
            result = tree
            continue
        if name not in _EXACT_SAFE:
            # Python divides exact integers and takes their square roots inexactly, the
            # primitives exactly: such an operation needs an operand that is inexact (a leaf,
            # which must then be a float, a float literal, or a result of one)
            if not any(_inexact(tree, reference) for reference in operands):
                return None
            tree.exact_safe = False
        reference = _add_operation(tree, name, operands)
        if len(tree.operations) > MAX_OPERATIONS:
            return None
        if stack:
            stack[-1][1].append(reference)
        else:
            result = tree
    # (+ x) and (* x) are no operation: a tree of nothing else is x
    return result if tree.leaves and tree.operations else None


def _is_operation(node, is_builtin_procedure) -> bool:
    if node.__class__ is not Call or node.fn.__class__ is not GlobalRef:
        return False
    name = node.fn.name
    if name not in FUSIBLE or not is_builtin_procedure(name):
        return False
    count = len(node.args)
    if name in _UNARY or name == "square":
        return count == 1
    return count >= 1


def _is_comparison(node, is_builtin_procedure) -> bool:
    return node.__class__ is Call and node.fn.__class__ is GlobalRef and node.fn.name in COMPARISONS \
        and len(node.args) == 2 and is_builtin_procedure(node.fn.name)


def _inexact(tree: Tree, reference) -> bool:
    kind, what = reference
    if kind == "leaf":
        return True
    if kind == "const":
        return what.__class__ is float
    return tree.inexact[what]


def _append(tree: Tree, name: str, operands: list) -> tuple:
    tree.operations.append((name, operands))
    exact_safe = name in _EXACT_SAFE or name == "negate"
    tree.inexact.append(not exact_safe or any(_inexact(tree, r) for r in operands))
    return ("op", len(tree.operations) - 1)


def _add_operation(tree: Tree, name: str, operands: list) -> tuple:
    """Append the operation(s) of `(name operand…)`, n-ary ones as a left-nested chain of
    binary ones (the primitives compute left to right); return the reference to the result."""
    if name in _BINARY_CHAIN:
        if len(operands) == 1:
            if name == "-":
                return _append(tree, "negate", [operands[0]])
            if name == "/":
                return _append(tree, "/", [("const", 1), operands[0]])
            return operands[0]      # (+ x) and (* x) are x
        left = operands[0]
        for right in operands[1:]:
            left = _append(tree, name, [left, right])
        return left
    return _append(tree, name, operands)


# -- the recorder of reverse mode -----------------------------------------------------------------

_ONE = "1"


def _times(factor: str, partial: str) -> str:
    if factor == _ONE:
        return partial
    if partial == _ONE:
        return factor
    if partial == "-1":
        return f"-({factor})"
    return f"({factor}) * ({partial})"


def _recorder_source(tree: Tree) -> tuple[str, dict]:
    """Python source of ``record(x0, x1, …)``: the leaves' values → the expression's value on
    their tape, or FALL_THROUGH.  Straight-line code: this runs once per evaluation."""
    namespace = dict(MATH_FUNCTIONS, Tracked=Tracked, FALL_THROUGH=FALL_THROUGH,
                     second=_lazy_second_order(tree))
    constants: dict = {}

    def operand(reference) -> str:
        return operand_source(reference, constants, namespace)

    count = len(tree.leaves)
    everyone = ", ".join(f"x{i}" for i in range(count))
    plain_classes = "c is float or c is int" if tree.exact_safe else "c is float"
    lines = [f"def record({', '.join(f'x{i}' for i in range(count))}):"]
    lines += [f"    c{i} = x{i}.__class__" for i in range(count)]
    # every leaf on the tape, the common case, checked first and at once
    lines += [f"    if {' and '.join(f'c{i} is Tracked' for i in range(count))}:",
              "        everywhere = True",
              "        tag = x0.tag"]
    lines += [f"        p{i} = x{i}.primal" for i in range(count)]
    same_tape = [f"x{i}.tag is not tag" for i in range(1, count)]
    # a primal that is not a float: perhaps a dual of an outer derivative (second_order.py)
    lines += [f"        if {' or '.join([f'p{i}.__class__ is not float' for i in range(count)] + same_tape)}:",
              f"            return second({everyone})",
              "    else:",
              "        everywhere = False",
              "        tag = None"]
    for i in range(count):
        lines += [f"        c = c{i}",
                  "        if c is Tracked:",
                  f"            p{i} = x{i}.primal",
                  f"            if p{i}.__class__ is not float or (tag is not None and x{i}.tag is not tag):",
                  f"                return second({everyone})",
                  f"            tag = x{i}.tag",
                  f"        elif {plain_classes}:",
                  f"            p{i} = x{i}",
                  "        else:",
                  f"            return second({everyone})"]
    lines += ["        if tag is None:",
              "            return FALL_THROUGH",
              "    entries = tag.inline_entries",
              "    if entries is None:",
              "        return FALL_THROUGH",
              "    try:"]
    for k, (name, operands) in enumerate(tree.operations):
        lines.append(f"        v{k} = {value_source(name, [operand(r) for r in operands])}")
    # adjoints, the root's first: every operation has one user, a leaf any number
    adjoint = {len(tree.operations) - 1: _ONE}
    leaf_terms: list[list[str]] = [[] for _ in tree.leaves]
    for k in range(len(tree.operations) - 1, -1, -1):
        name, operands = tree.operations[k]
        args = [operand(r) for r in operands]
        for position, reference in enumerate(operands):
            if reference[0] == "const":
                continue
            term = _times(adjoint[k], partial_source(name, position, args, f"v{k}"))
            if reference[0] == "op":
                if term in (_ONE, "-1") or term.isidentifier():
                    adjoint[reference[1]] = term
                else:
                    lines.append(f"        g{reference[1]} = {term}")
                    adjoint[reference[1]] = f"g{reference[1]}"
            else:
                leaf_terms[reference[1]].append(term)
    for i, terms in enumerate(leaf_terms):
        lines.append(f"        d{i} = {' + '.join(terms)}")
    lines += ["    except (ArithmeticError, ValueError):",
              "        return FALL_THROUGH"]
    # a partial that is not finite (then neither is their sum, and the sum times 0 is NaN, which
    # is true): the operations' own entries would skip what it multiplies
    total = " + ".join(f"d{i}" for i in range(count))
    lines += [f"    if ({total}) * 0:",
              "        return FALL_THROUGH",
              "    if everywhere:",
              f"        entries.append(({', '.join(f'x{i}.node, d{i}' for i in range(count))},))",
              "    else:",
              "        entry = []"]
    for i in range(count):
        lines += [f"        if c{i} is Tracked:",
                  f"            entry += (x{i}.node, d{i})"]
    lines += ["        entries.append(tuple(entry))",
              "    value = Tracked()",      # tags.tracked(), without the call
              "    value.tag = tag",
              f"    value.primal = v{len(tree.operations) - 1}",
              "    value.node = len(entries) - 1",
              "    return value"]
    return "\n".join(lines) + "\n", namespace


def operand_source(reference, constants: dict, namespace: dict) -> str:
    """The source of an operand in a recorder: leaf i's primal is p{i}, operation k's value
    v{k}; a float constant is a name in ``namespace`` (its repr may not be Python, e.g. inf)."""
    kind, what = reference
    if kind == "leaf":
        return f"p{what}"
    if kind == "op":
        return f"v{what}"
    if what.__class__ is int:
        return repr(what)
    key = constants.setdefault(repr(what), f"k{len(constants)}")
    namespace[key] = what
    return key


def value_source(name: str, args: list[str]) -> str:
    if name in _UNARY:
        return f"{_UNARY[name][0]}({args[0]})"
    if name == "negate":
        return f"-{args[0]}"
    if name == "square":
        return f"{args[0]} * {args[0]}"
    return f"{args[0]} {name} {args[1]}"


def partial_source(name: str, position: int, args: list[str], value: str) -> str:
    """The source of ∂(operation)/∂(operand at ``position``), in its operands' sources and its
    value's."""
    if name in _UNARY:
        return _UNARY[name][1].format(x=args[0], v=value)
    if name == "negate":
        return "-1"
    if name == "square":
        return f"2 * {args[0]}"
    if name == "+":
        return _ONE
    if name == "-":
        return _ONE if position == 0 else "-1"
    if name == "*":
        return args[1 - position]
    # "/": the rule of ad/rules.py's division kernel
    return f"1 / {args[1]}" if position == 0 else f"-{args[0]} / ({args[1]} * {args[1]})"
