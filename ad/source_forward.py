"""Forward mode by source transformation: the core forms of a procedure → the core forms of
its derivative, which the compiler compiles like any other code.

For f = (lambda (x) body), (derivative f) is generated as (lambda (x) body′), where body′
computes beside each number v of body its tangent dv = ∂v/∂x, as a plain local variable:

    v = (* a b)      ⟼  v = (* a b)     dv = (+ (* da b) (* a db))
    v = (sin a)      ⟼  v = (sin a)     dv = (* (cos a) da)
    (if test t e)    ⟼  (if test t′ e′)            the test on primals, as the duals branch
    (let loop ((k 0) (y y0)) …)  ⟼  a loop whose parameters carry their tangents beside them

and returns the tangent of body's value.  A tangent known to be zero (of a constant, of a loop
counter) is no variable at all, so the code is the derivative a person would write: the
seed dx = 1 disappears into the products it starts, and a loop's counter keeps no tangent
(which parameters of a loop carry one is found by iterating to a fixed point).

The generated code calls the same primitives as the program: numbers of an outer derivative
(duals, tape values) flow through it as through any code, and the generic operations keep
their levels apart, so a derivative taken this way nests under any other.  It nests under
itself too: the result is core forms of the kind it reads, and (derivative (derivative f))
transforms the transformed code.

What it does not read — a call through a procedure value, `set!`, a data structure, output,
a procedure returned, a call of a procedure it cannot see — raises NotTransformable with the
reason, and the operator differentiates with dual numbers instead (operators.py), which stay
the ground truth: where the generated code raises or gives a tangent that is not finite, the
duals compute it again, so the user sees their value and their error.
"""

from __future__ import annotations

import math

from fractions import Fraction

from ..lang.datum import Nil, Pair, list_to_python
from ..interpreter.core import Call, Const, GlobalRef, If, Lambda, Let, LocalRef, SetLocal, Variable, children

# The primitives the transformation differentiates inline, by the rules below, and those it
# passes through: a predicate or comparison has no tangent (it looks at the primals, as the
# duals' branches do), a rounding function has tangent zero.
SMOOTH = frozenset(("+", "-", "*", "/", "square", "sin", "cos", "tan", "exp", "sinh", "cosh",
                    "tanh", "atan", "asinh", "inexact", "exact->inexact"))
# Rules with a singular point or a case: the generated code asks the rule itself (rules.py),
# through the helper, so the point, the exact zero and the error are the duals' own.
BY_RULE = frozenset(("log", "sqrt", "asin", "acos", "acosh", "atanh", "abs", "expt"))
NO_TANGENT = frozenset(("=", "<", ">", "<=", ">=", "zero?", "positive?", "negative?", "even?",
                        "odd?", "not", "eq?", "eqv?", "equal?", "number?", "integer?", "rational?",
                        "real?", "exact?", "inexact?", "exact-integer?", "nan?", "finite?",
                        "infinite?", "boolean?"))
ZERO_TANGENT = frozenset(("floor", "ceiling", "round", "truncate"))
# numbers of numbers, without a rule here: read where no perturbed number reaches them
NUMERIC_NO_RULE = frozenset(("max", "min", "quotient", "remainder", "modulo", "exact", "inexact->exact",
                             "numerator", "denominator", "gcd", "lcm", "exact-integer-sqrt"))
# reads of a list argument: (an element at, or the suffix after) how many cells in
LIST_READS = {"car": ("at", 0), "cadr": ("at", 1), "caddr": ("at", 2), "cdr": ("after", 1),
              "cddr": ("after", 2)}
# of numbers, these never raise: their value, unused, need not be computed
# — given as many arguments as they take (least, most: None for any number)
CANNOT_RAISE = {"+": (0, None), "*": (0, None), "-": (1, None), "=": (1, None), "<": (1, None),
                ">": (1, None), "<=": (1, None), ">=": (1, None), "square": (1, 1), "zero?": (1, 1),
                "positive?": (1, 1), "negative?": (1, 1), "number?": (1, 1), "not": (1, 1)}
# the primitives the rules' code calls, which must still be the primitives when it runs
RULE_PRIMITIVES = frozenset(("+", "-", "*", "/", "cos", "sin", "cosh", "sinh", "sqrt"))

# what the compiler may compute with Python's own operators in generated code (compile.py)
PLAIN = frozenset(("+", "-", "*", "/", "square", "=", "<", ">", "<=", ">=", "sin", "cos", "tan",
                   "exp", "tanh"))

MAX_INLINED = 64        # calls of the user's procedures expanded into one derivative


def _known():
    return SMOOTH | BY_RULE | NO_TANGENT | ZERO_TANGENT | NUMERIC_NO_RULE
MAX_FIXPOINT_ROUNDS = 32


class NotTransformable(Exception):
    """The reason the operator differentiates this procedure with dual numbers."""


def _is_number(value) -> bool:
    cls = value.__class__
    return cls is int or cls is float or cls is Fraction or getattr(value, "tag", None) is not None


class Source:
    """What the transformation reads of a procedure: its lambda, the values its free
    variables hold (captured from where it was made) and the namespace of its globals."""

    __slots__ = ("node", "free", "values", "namespace")

    def __init__(self, node: Lambda, free: list, values: list, namespace: dict):
        self.node = node
        self.free = free
        self.values = values
        self.namespace = namespace


class Val:
    """A value of the generated code: its primal (an atom: Const, LocalRef or GlobalRef), its
    tangents (one atom per direction, None for one known to be zero; None for all of them) and
    whether it is certainly a number.  ``cells``: for a list argument of a gradient, (the
    direction of its first element, how far in this suffix starts)."""

    __slots__ = ("primal", "tangents", "numeric", "cells", "data")

    def __init__(self, primal, tangents, numeric: bool, cells=None, data: int = 0):
        self.primal = primal
        self.tangents = tangents if tangents is not None and any(t is not None for t in tangents) else None
        self.numeric = numeric
        self.cells = cells
        # DATA: a list of numbers a closure captured, not differentiated, taken apart by its
        # reads (the generated code's entry checks its elements are plain numbers)
        self.data = data

    def tangent(self, direction):
        return None if self.tangents is None else self.tangents[direction]


# Val.data: DATA for a captured list of numbers, 0 for anything else.  A loop's parameter is of
# UNKNOWN kind in the first round of its fixpoint, until its callers have said what they pass:
# that round lets it be read as a list and computed with as a number, and is always done again
DATA, UNKNOWN = 1, 2


class Direction:
    """A Val seen along one direction, for the tangent rules."""

    __slots__ = ("primal", "tangent")

    def __init__(self, val: Val, direction: int):
        self.primal = val.primal
        self.tangent = val.tangent(direction)


class Captured:
    """A procedure a closure captured, as the transformation reads calls of it: a primitive
    (``name``), or a closure whose code it writes out in place (``source``), the variables that
    closure captured in ``env`` — numbers passed to the generated code as parameters, after
    the outer closure's own, procedures Captured in turn."""

    __slots__ = ("name", "value", "source", "env")

    def __init__(self, name, value, source=None, env=None):
        self.name = name
        self.value = value
        self.source = source
        self.env = env


MAX_CAPTURE_DEPTH = 8       # closures of closures … whose code one transformation writes out


class LocalProcedure:
    """A procedure of a `letrec` (a named let) in the code transformed: called only in tail
    position, it becomes a procedure of the generated code whose parameters carry tangents
    where ``active`` says a caller passes one (``numeric``: where every caller passes a number)."""

    __slots__ = ("variable", "node", "active", "numeric", "data", "result")

    def __init__(self, variable, node, active, numeric, data, result):
        self.variable = variable
        self.node = node
        self.active = active
        self.numeric = numeric
        self.data = data            # per parameter: DATA where every caller passes data, else 0
        self.result = result


class Block:
    """Straight-line code being generated: bindings, then an end (a node in tail position).
    A join splits it: what follows an `if` whose value is used is the body of a local
    procedure both branches call.  ``memo`` shares a primitive call already bound in a block
    that dominates this one (common subexpressions)."""

    __slots__ = ("items", "end", "parent", "memo")

    def __init__(self, parent: "Block | None"):
        self.items: list = []
        self.end = None
        self.parent = parent
        self.memo: dict = {}

    def find(self, key):
        block = self
        while block is not None:
            found = block.memo.get(key)
            if found is not None:
                return found
            block = block.parent
        return None


class Join:
    __slots__ = ("variable", "node", "test", "then", "otherwise", "rest")

    def __init__(self, variable, node, test, then, otherwise, rest):
        self.variable = variable
        self.node = node
        self.test = test
        self.then = then
        self.otherwise = otherwise
        self.rest = rest


def build(block: Block):
    """The node of a block: its bindings as nested lets around its end (iteratively)."""
    node = block.end
    for item in reversed(block.items):
        if item.__class__ is Join:
            item.node.body = node if item.rest is None else build(item.rest)
            node = Let([item.variable], [item.node],
                       If(item.test, build(item.then), build(item.otherwise)))
        else:
            variable, init, span = item
            node = Let([variable], [init], node, span=span)
    return node


class TangentResult:
    """The end of the function: its value's tangent is the derivative."""

    def __call__(self, val: Val, span):
        if not val.numeric:
            raise NotTransformable("it may return something other than a number")
        return val.tangent(0) or Const(0, span)


class GradientResult:
    """The end of the function, differentiated in every direction at once: its tangents,
    shaped as the arguments are (a number each, a list for a list)."""

    def __init__(self, shapes: list, make_list):
        self.shapes = shapes        # per argument: None for a number, else its length
        self.make_list = make_list

    def __call__(self, val: Val, span):
        if not val.numeric:
            raise NotTransformable("it may return something other than a number")
        parts = []
        direction = 0
        for length in self.shapes:
            if length is None:
                parts.append(val.tangent(direction) or Const(0, span))
                direction += 1
            else:
                parts.append(Call(Const(self.make_list, span),
                                  [val.tangent(direction + i) or Const(0, span) for i in range(length)], span))
                direction += length
        return parts[0] if len(parts) == 1 else Call(Const(self.make_list, span), parts, span)


class JacobianResult:
    """The end of a gradient's generated code, differentiated again in every direction (a
    Hessian, forward over forward): one row per number the gradient returns, the tangents of
    that number along every input.  The gradient's code ends in (list …) calls of its parts, or,
    for a function of one number, in the number itself."""

    def __init__(self, scalar: bool, make_list):
        self.scalar = scalar
        self.make_list = make_list

    def __call__(self, val: Val, span):
        if not self.scalar or not val.numeric:
            raise NotTransformable("its gradient's code does not end in the list of its parts")
        return val.tangent(0) or Const(0, span)

    def builds(self, node) -> bool:
        return node.__class__ is Call and node.fn.__class__ is Const and node.fn.value is self.make_list

    def rows(self, transformer: "Transformer", node: Call, env: dict):
        if self.scalar:
            raise NotTransformable("its gradient's code does not end in a number")
        outputs = []
        pending = [node]
        while pending:      # the gradient's parts, a list each for a list argument, in order
            part = pending.pop()
            if self.builds(part):
                pending.extend(reversed(part.args))
                continue
            val = transformer.value(part, env)
            if not val.numeric:
                raise NotTransformable("its gradient may hold something other than a number")
            outputs.append(val)
        span = node.span
        return Call(Const(self.make_list, span),
                    [Call(Const(self.make_list, span),
                          [val.tangent(d) or Const(0, span) for d in range(transformer.directions)], span)
                     for val in outputs], span)


def builtin_names(builtins: dict) -> dict:
    """id of a built-in procedure → its name (the first, for one of several names)."""
    names: dict = {}
    for name, value in builtins.items():
        names.setdefault(id(value), name)
    return names


class Transformer:
    """One transformation.  ``source_of(procedure)`` is the Source of a procedure nablisp can
    see, or None; ``builtins`` the table of built-in procedures by name; ``rule_helper`` the
    procedure the generated code calls for a BY_RULE primitive."""

    def __init__(self, source_of, builtins: dict, rule_helper, names: dict | None = None):
        self.source_of = source_of
        self.builtins = builtins
        self.names = names if names is not None else builtin_names(builtins)
        self.rule_helper = rule_helper
        self.guards: list = []          # (namespace, name, value): what the code assumes of globals
        self.owner: Lambda | None = None
        self.block: Block | None = None
        self.inlining: list = []
        self.data_params: set = set()   # parameters of the generated code holding captured lists
        self.inlined = 0
        self.namespace: dict = {}
        self.changed = False
        self.counter = 0
        self.fresh: set = set()     # variables named by the transformation, not yet by the program
        self.pure: set = set()      # variables whose computation cannot raise
        self.numeric: set = set()   # variables certainly holding numbers
        # per loop of the code read (its Lambda): which parameters carry a tangent, and which
        # are certainly numbers — iterated to a fixed point over the rounds of a transformation
        self.loops: dict = {}
        self.directions = 1

    # -- entry -----------------------------------------------------------------------------------

    def derivative(self, source: Source) -> Lambda:
        """(lambda (free … x) body′): the derivative of the procedure of one number ``source``
        describes, with its free variables as leading parameters."""
        node = source.node
        if node.rest is not None or len(node.params) != 1:
            raise NotTransformable("derivative needs a function of one number")
        result, env = self.start(source)
        x = Variable(node.params[0].name, result)
        result.params.append(x)
        env[node.params[0]] = Val(LocalRef(x), (Const(1),), True)
        result.plain_entry = self.entry_kinds(result)
        self.directions = 1
        return self.settle(node, result, env, TangentResult())

    def gradient_forward(self, source: Source, lengths: list) -> Lambda:
        """(lambda (free … params …) body′) computing f's gradient in forward mode, one
        direction per input number: for few inputs, (1 + n) passes' worth of work in one, and
        no stack.  ``lengths[i]``: None for a number argument, the length of a list argument
        (read by car, cadr, cdr … at places known when compiling)."""
        node = source.node
        if node.rest is not None or len(node.params) != len(lengths):
            raise NotTransformable("it takes another number of arguments")
        return self._every_direction(source, lengths, GradientResult(lengths, self.builtins["list"]))

    def _every_direction(self, source: Source, lengths: list, end) -> Lambda:
        """The code of source's procedure differentiated along one direction per input number
        (``lengths`` as gradient_forward takes them), ending as ``end`` says."""
        node = source.node
        result, env = self.start(source)
        self.directions = sum(1 if length is None else length for length in lengths)
        direction = 0
        entry = self.entry_kinds(result)
        for param, length in zip(node.params, lengths):
            copy = Variable(param.name, result)
            result.params.append(copy)
            if length is None:
                seeds = [None] * self.directions
                seeds[direction] = Const(1)
                env[param] = Val(LocalRef(copy), tuple(seeds), True)
                entry.append((copy, "number"))
                direction += 1
            else:
                env[param] = Val(LocalRef(copy), None, False, cells=(direction, 0, length))
                entry.append((copy, "list"))
                direction += length
        result.plain_entry = entry
        return self.settle(node, result, env, end)

    def hessian_forward(self, gradient: Source, lengths: list) -> Lambda:
        """(lambda (free … params …) body″): the Hessian of a function of few numbers, as the
        forward-mode derivative, in every direction, of its gradient's generated code
        (gradient_forward's, which ``gradient`` describes with its own parameters)."""
        node = gradient.node
        if node.rest is not None or len(node.params) != len(lengths):
            raise NotTransformable("it takes another number of arguments")
        return self._every_direction(gradient, lengths, JacobianResult(lengths == [None], self.builtins["list"]))

    def start(self, source: Source):
        """The generated lambda, its first parameters the numbers the procedure captured —
        with those of the closures it captured, depth first (GeneratedDerivatives._captures passes
        them in this order) — passed at each call, and the environment binding them."""
        self.namespace = source.namespace
        result = Lambda(source.node.span, source.node.name)
        return result, self.captured_env(source, result, 0)

    def captured_env(self, source: Source, result: Lambda, depth: int) -> dict:
        env = {}
        for variable, value in zip(source.free, source.values):
            if _is_number(value):
                copy = Variable(variable.name, result)
                result.params.append(copy)
                env[variable] = Val(LocalRef(copy), None, True)
            elif callable(value):
                env[variable] = self.captured(variable, value, result, depth)
            elif number_items(value) is not None:
                copy = Variable(variable.name, result)
                result.params.append(copy)
                self.data_params.add(copy)
                env[variable] = Val(LocalRef(copy), None, False, data=DATA)
            else:
                raise NotTransformable("it refers to a variable that holds something other than a number, "
                                       "a list of numbers or a procedure")
        return env

    def entry_kinds(self, result: Lambda) -> list:
        """Lambda.plain_entry for the captured parameters: a number each, or a list of them."""
        return [(variable, "list" if variable in self.data_params else "number") for variable in result.params]

    def captured(self, variable, value, result: Lambda, depth: int) -> Captured:
        name = self._primitive(value)
        if name is not None:
            return Captured(name, value)
        inner = self.source_of(value)
        if inner is None:
            raise NotTransformable(f"it calls {variable.name}, a procedure whose code the transformation cannot see")
        if inner.values is None:
            raise NotTransformable(f"{variable.name} refers to a variable assigned by set!")
        if inner.namespace is not self.namespace:
            raise NotTransformable(f"{variable.name} is a procedure of another library")
        if depth >= MAX_CAPTURE_DEPTH:
            raise NotTransformable(f"{variable.name} is a closure of closures nested too deeply to write out")
        # (a closure cannot have captured itself: a recursive local procedure is bound by
        # letrec, which assigns it, and a closure of an assigned variable is not read)
        return Captured(None, value, inner, self.captured_env(inner, result, depth + 1))

    def settle(self, node, result, env, end):
        for _ in range(MAX_FIXPOINT_ROUNDS):
            self.guards = []
            self.inlined = 0
            self.changed = False
            self.counter = 0
            self.fresh = set()
            self.pure = set()
            self.numeric = {val.primal.var for val in env.values()
                            if val.__class__ is Val and val.numeric and val.primal.__class__ is LocalRef}
            result.body = self.in_block(result, None, lambda: self.tail(node.body, env, end))
            if not self.changed:
                self.check_guards()
                remove_dead(result, self.pure)
                inline_single_uses(result, self.fresh)
                mark_captured(result)
                return result
        raise NotTransformable("its loops' tangents did not settle")

    def in_block(self, owner, parent, fill):
        """The node of a new block that ``fill()`` fills, its variables owned by ``owner``."""
        saved = self.block, self.owner
        self.block, self.owner = Block(parent), owner
        first = self.block
        try:
            fill()
        finally:
            self.block, self.owner = saved
        return build(first)

    def emit(self, name: str, init, span) -> LocalRef:
        variable = Variable(name, self.owner)
        self.block.items.append((variable, init, span))
        return LocalRef(variable, span)

    # -- tail positions ----------------------------------------------------------------------------

    def tail(self, node, env: dict, result):
        """Fill the current block with the code of ``node`` in tail position: its end is the
        ``result`` of node's value (or a call of a loop, which gives that result)."""
        cls = node.__class__
        if cls is If:
            test = self.value(node.test, env)
            block = self.block
            then = self.in_block(self.owner, block, lambda: self.tail(node.then, env, result))
            otherwise = self.in_block(self.owner, block, lambda: self.tail(node.otherwise, env, result))
            self.block.end = If(test.primal, then, otherwise, node.span)
        elif cls is Let and (node.recursive or all(init.__class__ is Lambda for init in node.inits)):
            # a loop, or a procedure called in tail position only: the join of an `if` whose
            # value generated code uses, when that code is differentiated again
            self.local_procedures(node, env, result)
        elif cls is Let:
            self.tail(node.body, self.bind(node, env), result)
        elif cls is Call and node.fn.__class__ is LocalRef and \
                env.get(node.fn.var).__class__ is LocalProcedure:
            self.local_call(node, env.get(node.fn.var), env, result)
        elif cls is Call and node.fn.__class__ is LocalRef and env.get(node.fn.var).__class__ is Captured and \
                env[node.fn.var].name is None:
            self.written_out(node, env[node.fn.var], env, lambda body, callee_env: self.tail(body, callee_env, result))
        elif cls is Call and node.fn.__class__ is GlobalRef and self.source_of_call(node) is not None:
            callee_env, callee = self.inline_env(node, env)
            self.inlining.append(callee.node)
            try:
                self.tail(callee.node.body, callee_env, result)
            finally:
                self.inlining.pop()
        elif result.__class__ is JacobianResult and result.builds(node):
            self.block.end = result.rows(self, node, env)
        else:
            val = self.value(node, env)
            self.block.end = result(val, node.span)

    # -- values ------------------------------------------------------------------------------------

    def value(self, node, env: dict) -> Val:
        """Emit the code computing ``node`` and its tangent; their atoms."""
        cls = node.__class__
        if cls is Const:
            return Val(Const(node.value, node.span), None, _is_number(node.value))
        if cls is LocalRef:
            val = env.get(node.var)
            if val is None or val.__class__ is LocalProcedure or val.__class__ is Captured:
                raise NotTransformable(f"it uses the procedure {node.var.name} as a value")
            return val
        if cls is GlobalRef:
            value = self.global_value(node.name)
            if callable(value):
                raise NotTransformable(f"it uses the procedure {node.name} as a value")
            self.guards.append((self.namespace, node.name, _A_NUMBER if _is_number(value) else _NOT_A_PROCEDURE))
            return Val(GlobalRef(node.name, node.span), None, _is_number(value))
        if cls is If:
            return self.joined_if(node, env)
        if cls is Let and not node.recursive:
            return self.value(node.body, self.bind(node, env))
        if cls is Call:
            return self.call(node, env)
        if cls is Let:
            raise NotTransformable("it uses the value of a loop inside an expression")
        raise NotTransformable(f"it uses {_describe(node)}")

    def bind(self, node: Let, env: dict) -> dict:
        vals = []
        for variable, init in zip(node.variables, node.inits):
            if variable.assigned:
                raise NotTransformable(f"it assigns {variable.name} (set!)")
            val = self.value(init, env)
            vals.append(val)
            # a value computed here and first bound by the program takes the program's name
            named = [(val.primal, variable.name)] + [
                (val.tangent(d), self.tangent_name(variable.name, d)) for d in range(self.directions)]
            for atom, name in named:
                if atom.__class__ is LocalRef and atom.var in self.fresh:
                    self.fresh.discard(atom.var)
                    atom.var.name = name
        env = dict(env)
        for variable, val in zip(node.variables, vals):
            env[variable] = val
        return env

    def tangent_name(self, name: str, direction: int) -> str:
        """dv for a derivative; d0v, d1v … for the directions of a gradient in forward mode."""
        return "d" + name if self.directions == 1 else f"d{direction}{name}"

    def joined_if(self, node: If, env) -> Val:
        """An `if` whose value is used: each branch ends by calling a join procedure, whose
        body is the rest of the block, (let ((join (lambda (v dv) rest…))) (if …))."""
        test = self.value(node.test, env)
        block = self.block
        branches = []
        join_node = Lambda(node.span, "join")
        join_variable = Variable("join", self.owner)
        then = Block(block)
        otherwise = Block(block)
        saved = self.block, self.owner
        for target, arm in ((then, node.then), (otherwise, node.otherwise)):
            self.block = target
            try:
                val = self.value(arm, env)
                branches.append((val, self.block))     # where the branch ends, after any join in it
            finally:
                self.block, self.owner = saved
        if any(val.cells is not None or val.data == DATA for val, _ in branches):
            raise NotTransformable("an if chooses between lists")
        active = [any(val.tangent(d) is not None for val, _ in branches) for d in range(self.directions)]
        numeric = all(val.numeric for val, _ in branches)
        for val, end_block in branches:
            args = [val.primal] + [val.tangent(d) or Const(0, node.span) for d in range(self.directions) if active[d]]
            end_block.end = Call(LocalRef(join_variable, node.span), args, node.span)
        v = Variable("v", join_node)
        join_node.params.append(v)
        if numeric:
            self.numeric.add(v)
        tangents = []
        for d in range(self.directions):
            if active[d]:
                dv = Variable(self.tangent_name("v", d), join_node)
                join_node.params.append(dv)
                self.numeric.add(dv)
                tangents.append(LocalRef(dv, node.span))
            else:
                tangents.append(None)
        rest = Block(block)
        block.items.append(Join(join_variable, join_node, test.primal, then, otherwise, rest))
        # what follows is the join's body: its variables are the join's own
        self.block, self.owner = rest, join_node
        return Val(LocalRef(v, node.span), tuple(tangents), numeric)

    # -- calls -------------------------------------------------------------------------------------

    def source_of_call(self, node: Call):
        value = self.namespace.get(node.fn.name)
        if value is None or not callable(value) or self._primitive(value) is not None:
            return None
        return self.source_of(value)

    def _primitive(self, value):
        name = self.names.get(id(value))
        return name if name is not None and self.builtins[name] is value else None

    def call(self, node: Call, env) -> Val:
        fn = node.fn
        if fn.__class__ is LocalRef and env.get(fn.var).__class__ is Captured:
            captured = env[fn.var]
            if captured.name is not None:
                vals = [self.value(arg, env) for arg in node.args]
                return self.primitive(node, Const(captured.value, node.span), captured.name, vals)
            return self.written_out(node, captured, env, self.value)
        if fn.__class__ is LocalRef:
            if env.get(fn.var).__class__ is LocalProcedure:
                raise NotTransformable(f"it uses the value of a call of {fn.var.name} inside an expression "
                                      "(it reads calls of a local procedure in tail position only)")
            raise NotTransformable("it calls a procedure passed to it as a value")
        if fn.__class__ is Const and self._primitive(fn.value) is not None:
            # a primitive a closure captured, called as itself by the code differentiated again
            vals = [self.value(arg, env) for arg in node.args]
            return self.primitive(node, Const(fn.value, node.span), self._primitive(fn.value), vals)
        if fn.__class__ is Const and fn.value is self.rule_helper:
            # generated code differentiated again: a rule's partial is Python, not core forms
            raise NotTransformable(f"its derivative's code applies the derivative rule of {node.args[0].value}, "
                                   "which the transformation does not differentiate again")
        if fn.__class__ is not GlobalRef:
            raise NotTransformable("it calls a procedure computed by an expression")
        value = self.global_value(fn.name)
        name = self._primitive(value)
        self.guards.append((self.namespace, fn.name, value))
        if name is None:
            if self.source_of_call(node) is None:
                raise NotTransformable(f"it calls {fn.name}, whose code the transformation cannot see")
            callee_env, callee = self.inline_env(node, env)
            self.inlining.append(callee.node)
            try:
                return self.value(callee.node.body, callee_env)
            finally:
                self.inlining.pop()
        vals = [self.value(arg, env) for arg in node.args]
        return self.primitive(node, fn.name, name, vals)

    def primitive(self, node: Call, global_name: str, name: str, vals: list) -> Val:
        span = node.span
        if name in ("*", "/") and len(vals) > 2:
            # (* a b c) is ((a·b)·c), as the primitive computes it
            head = self.primitive(node, global_name, name, vals[:2])
            return self.primitive(node, global_name, name, [head] + vals[2:])
        if name in LIST_READS or name in ("null?", "pair?"):
            return self.list_read(node, global_name, name, vals)
        if any(v.cells is not None or v.data == DATA for v in vals):
            raise NotTransformable(f"it applies {name} to a list")
        if name not in KNOWN:
            # whatever its arguments: its value may not be a number, and it may have an effect,
            # which the duals' computing again after an error would repeat
            raise NotTransformable(f"it applies {name}, which the transformation does not read")
        primal = self.shared(_callee(global_name, span), [v.primal for v in vals], span, canonical=name,
                             numeric=name not in NO_TANGENT)
        if name in CANNOT_RAISE and all(v.numeric for v in vals) and primal.__class__ is LocalRef:
            least, most = CANNOT_RAISE[name]
            if least <= len(vals) and (most is None or len(vals) <= most):
                self.pure.add(primal.var)       # unused, it may go: it cannot raise
        if name in NO_TANGENT:
            return Val(primal, None, False)
        if name in ZERO_TANGENT or name in NUMERIC_NO_RULE or not any(v.tangents is not None for v in vals):
            if name in NUMERIC_NO_RULE and any(v.tangents is not None for v in vals):
                raise NotTransformable(f"it applies {name} to a number being differentiated")
            return Val(primal, None, True)
        if name in BY_RULE:
            if len(vals) != (2 if name == "expt" else 1):
                raise NotTransformable(f"it applies {name} to {len(vals)} arguments")
            tangents = []
            for d in range(self.directions):
                if all(v.tangent(d) is None for v in vals):
                    tangents.append(None)
                    continue
                args = [Const(name, span)] + [v.primal for v in vals] + [v.tangent(d) or Const(0, span) for v in vals]
                tangent = self.shared(Const(self.rule_helper, span), args, span, tangent=True)
                tangent.var.name = self.tangent_name(primal.var.name, d)
                tangents.append(tangent)
            return Val(primal, tuple(tangents), True)
        if name not in SMOOTH:
            raise NotTransformable(f"it applies {name} to a number being differentiated")
        if name not in ("+", "-", "*", "/") and len(vals) != 1:
            raise NotTransformable(f"it applies {name} to {len(vals)} arguments")
        for primitive in RULE_PRIMITIVES:
            self.guards.append((self.namespace, primitive, _PRIMITIVE))
        tangents = []
        for d in range(self.directions):
            views = [Direction(v, d) for v in vals]
            if all(view.tangent is None for view in views):
                tangents.append(None)
                continue
            tangent = self.atom(tangent_rule(name, views, primal, span), span)
            if tangent.__class__ is LocalRef and name in ("+", "-", "*"):
                self.pure.add(tangent.var)
            if tangent.__class__ is LocalRef and tangent.var in self.fresh and primal.__class__ is LocalRef \
                    and tangent.var is not primal.var and tangent.var.name.startswith("t"):
                tangent.var.name = self.tangent_name(primal.var.name, d)
            tangents.append(tangent)
        return Val(primal, tuple(tangents), True)

    def list_read(self, node: Call, global_name: str, name: str, vals: list) -> Val:
        """car, cdr … of a list argument of a gradient: its elements' directions are known
        where the reads are, so an element's tangent is a unit vector; anything else is a list
        the transformation does not follow."""
        if len(vals) == 1 and vals[0].data:
            return self.data_read(node, global_name, name, vals[0])
        if len(vals) != 1 or vals[0].cells is None:
            raise NotTransformable(f"it applies {name} to a value other than a list argument")
        key = ("read", global_name, _key(vals[0].primal))
        found = self.block.find(key)
        if found is not None:
            return found
        self.block.memo[key] = val = self._list_read(node, global_name, name, vals)
        return val

    def data_read(self, node: Call, global_name: str, name: str, val: Val) -> Val:
        """car, cdr … of data, without a tangent: an element is a number, a plain one in the
        plain body, whose entry checked the list."""
        primal = self._emit_read(node, global_name, name, val.primal)
        if name in ("null?", "pair?"):
            return Val(primal, None, False)
        if LIST_READS[name][0] == "after":
            return Val(primal, None, False, data=val.data)
        self.numeric.add(primal.var)        # the entry checked it (or a round done again)
        return Val(primal, None, True)

    def _emit_read(self, node: Call, global_name: str, name: str, pair) -> LocalRef:
        """A variable bound to (name pair), read as Python's attributes in the plain body."""
        span = node.span
        call = Call(_callee(global_name, span), [pair], span)
        call.plain = name
        self.counter += 1
        primal = self.emit(f"v{self.counter}", call, span)
        self.fresh.add(primal.var)
        return primal

    def _list_read(self, node: Call, global_name: str, name: str, vals: list) -> Val:
        base, offset, length = vals[0].cells
        primal = self._emit_read(node, global_name, name, vals[0].primal)
        if name in ("null?", "pair?"):
            return Val(primal, None, False)
        kind, count = LIST_READS[name]
        if kind == "after":
            return Val(primal, None, False, cells=(base, offset + count, length))
        self.numeric.add(primal.var)
        position = offset + count
        if position >= length:
            raise NotTransformable(f"it reads past the end of a list of {length}")
        seeds = [None] * self.directions
        seeds[base + position] = Const(1)
        return Val(primal, tuple(seeds), True)

    def shared(self, fn, args: list, span, tangent: bool = False, canonical: str | None = None,
               numeric: bool = True):
        """The atom of (fn args…): a variable bound to it, or the one bound to the same call
        in a block that dominates this one.  Named as the back-prop listings name them: v1,
        v2 … for values, t1 … for the terms of a tangent (renamed dv1 when it is v1's)."""
        if tangent and fn.__class__ is GlobalRef and fn.name in ("+", "-", "*") and args and \
                all(a.__class__ is Const and a.value.__class__ is int for a in args):
            # a tangent's exact constants, as (+ 1 1) where a Hessian's seeds meet: folded
            values = [a.value for a in args]
            if fn.name == "+":
                return Const(sum(values), span)
            if fn.name == "*":
                return Const(math.prod(values), span)
            return Const(-values[0] if len(values) == 1 else values[0] - sum(values[1:]), span)
        key = (_key(fn), tuple(_key(a) for a in args))
        found = self.block.find(key)
        if found is not None:
            return found
        self.counter += 1
        call = Call(fn, args, span)
        name = canonical or (fn.name if fn.__class__ is GlobalRef else None)
        if name in PLAIN and all(self.is_numeric(a) for a in args):
            call.plain = name
        ref = self.emit(f"{'t' if tangent else 'v'}{self.counter}", call, span)
        self.fresh.add(ref.var)
        if numeric and fn.__class__ is GlobalRef:
            self.numeric.add(ref.var)
        self.block.memo[key] = ref
        return ref

    def is_numeric(self, atom) -> bool:
        if atom.__class__ is Const:
            value = atom.value
            return value.__class__ is int or value.__class__ is float or value.__class__ is Fraction
        return atom.__class__ is LocalRef and atom.var in self.numeric

    def atom(self, node, span):
        """``node`` itself if an atom, else a variable bound to it (calls in it shared)."""
        if node is None or _is_atom(node):
            return node
        args = [self.atom(a, span) for a in node.args]
        return self.shared(node.fn, args, node.span or span, tangent=True)

    def written_out(self, node: Call, captured: Captured, env, fill):
        """fill(body, its environment) for a call of a captured closure, its code written out."""
        callee_env = self.captured_callee_env(node, captured, env)
        self.inlining.append(captured)
        try:
            return fill(captured.source.node.body, callee_env)
        finally:
            self.inlining.pop()

    def captured_callee_env(self, node: Call, captured: Captured, env) -> dict:
        """The variables of a captured closure's code written out for a call of it: its
        parameters bound to the arguments, the variables it captured to what captured_env read."""
        # (no call of a captured closure is recursive: what closures captured is a tree, the
        # closures of one lambda in it — (twice (twice sin)) — closures of their own)
        callee = captured.source.node
        name = node.fn.var.name
        check_expansion(self, name, callee, len(node.args))
        vals = [self.value(arg, env) for arg in node.args]
        callee_env = dict(captured.env)
        for param, val in zip(callee.params, vals):
            if param.assigned:
                raise NotTransformable(f"{name} assigns its parameter {param.name} (set!)")
            callee_env[param] = val
        return callee_env

    def inline_env(self, node: Call, env):
        source = self.source_of_call(node)
        check_inlining(self, node, source)
        vals = [self.value(arg, env) for arg in node.args]
        return callee_environment(node, source, vals, lambda value: Val(Const(value, node.span), None,
                                                                        _is_number(value))), source

    # -- loops -------------------------------------------------------------------------------------

    def local_procedures(self, node: Let, env, result):
        if not all(init.__class__ is Lambda and init.rest is None for init in node.inits):
            raise NotTransformable("it defines a local variable recursively that is not a procedure")
        env = dict(env)
        locals_ = []
        for variable, init in zip(node.variables, node.inits):
            if variable.assigned:
                raise NotTransformable(f"it assigns {variable.name} (set!)")
            active, numeric, data = self.loops.setdefault(
                init, ([[False] * self.directions for _ in init.params], [True] * len(init.params),
                       [UNKNOWN] * len(init.params)))
            local = LocalProcedure(Variable(variable.name, self.owner), Lambda(init.span, init.name), active,
                                   numeric, data, result)
            local.node.self_var = local.variable
            env[variable] = local
            locals_.append((init, local))
        block = self.block
        for init, local in locals_:
            inner_env = dict(env)
            for param, active, numeric, data in zip(init.params, local.active, local.numeric, local.data):
                if param.assigned:
                    raise NotTransformable(f"it assigns {param.name} (set!)")
                copy = Variable(param.name, local.node)
                local.node.params.append(copy)
                if numeric:
                    self.numeric.add(copy)
                tangents = []
                for d in range(self.directions):
                    if active[d]:
                        tangent = Variable(self.tangent_name(param.name, d), local.node)
                        local.node.params.append(tangent)
                        self.numeric.add(tangent)
                        tangents.append(LocalRef(tangent))
                    else:
                        tangents.append(None)
                inner_env[param] = Val(LocalRef(copy), tuple(tangents), numeric, data=data)
            local.node.body = self.in_block(local.node, block,
                                            lambda init=init, inner_env=inner_env: self.tail(init.body, inner_env, result))
        body = self.in_block(self.owner, block, lambda: self.tail(node.body, env, result))
        self.block.end = Let([local.variable for _, local in locals_], [local.node for _, local in locals_], body,
                             recursive=True, span=node.span)

    def local_call(self, node: Call, local: LocalProcedure, env, result):
        if result is not local.result:
            raise NotTransformable(f"it uses the value of a call of {local.variable.name} inside an expression "
                                  "(it reads calls of a local procedure in tail position only)")
        if len(node.args) != len(local.active):
            raise NotTransformable(f"it calls {local.variable.name} with a number of arguments it does not take")
        vals = [self.value(arg, env) for arg in node.args]
        args = []
        for index, val in enumerate(vals):
            if val.cells is not None:
                raise NotTransformable(f"its loop {local.variable.name} walks a list (the reverse sweep reads it)")
            args.append(val.primal)
            for d in range(self.directions):
                if val.tangent(d) is not None and not local.active[index][d]:
                    local.active[index][d] = True
                    self.changed = True         # transform again, with this parameter's tangent
            if not val.numeric and local.numeric[index]:
                local.numeric[index] = False
                self.changed = True
            known = local.data[index]
            # data where every caller passes data; one caller that passes anything else makes it 0
            data = val.data if known == UNKNOWN else (DATA if known == DATA and val.data == DATA else 0)
            if data != known:
                local.data[index] = data
                self.changed = True
            for d in range(self.directions):
                if local.active[index][d]:
                    args.append(val.tangent(d) or Const(0, node.span))
        self.block.end = Call(LocalRef(local.variable, node.span), args, node.span)

    # -- globals -----------------------------------------------------------------------------------

    def check_guards(self):
        for namespace, name, expected in self.guards:
            if not guard_holds(namespace, name, expected, self.builtins):
                raise NotTransformable(f"{name} is not the built-in procedure the derivative rules use")

    def global_value(self, name: str):
        try:
            return self.namespace[name]
        except KeyError:
            raise NotTransformable(f"{name} is not defined") from None


def check_expansion(transformer, name: str, callee: Lambda, count: int):
    """What writing out one more call of ``callee`` with ``count`` arguments asks."""
    transformer.inlined += 1
    if transformer.inlined > MAX_INLINED:
        raise NotTransformable("it calls too many procedures to expand")
    if callee.rest is not None:
        raise NotTransformable(f"it calls {name}, which takes any number of arguments (a rest parameter)")
    if len(callee.params) != count:
        raise NotTransformable(f"it calls {name} with a number of arguments it does not take")


def check_inlining(transformer, node: Call, source: Source):
    """What both transformations ask before they write a call of the global procedure
    ``source`` out in place (and guard that the global still holds it)."""
    name = node.fn.name
    callee = source.node
    if callee in transformer.inlining:
        raise NotTransformable(f"{name} calls itself other than as a loop")
    check_expansion(transformer, name, callee, len(node.args))
    if source.namespace is not transformer.namespace:
        raise NotTransformable(f"{name} is defined in another library")
    transformer.guards.append((transformer.namespace, name, transformer.namespace.get(name)))


def callee_environment(node: Call, source: Source, vals: list, constant) -> dict:
    """The callee's variables: its parameters bound to the arguments' values, the variables
    it captured to constants (``constant(value)`` makes the value's Val)."""
    name = node.fn.name
    env = {}
    for variable, value in zip(source.free, source.values):
        if callable(value):
            raise NotTransformable(f"{name} refers to a procedure held in a variable")
        env[variable] = constant(value)
    for param, val in zip(source.node.params, vals):
        if param.assigned:
            raise NotTransformable(f"{name} assigns its parameter {param.name} (set!)")
        env[param] = val
    return env


def _key(node):
    cls = node.__class__
    if cls is LocalRef:
        return ("local", id(node.var))
    if cls is GlobalRef:
        return ("global", node.name)
    value = node.value
    return ("constant", value.__class__, value if value.__class__ in (int, float, str, bool, Fraction) else id(value))


_NOT_A_PROCEDURE = object()     # a guard: the global is still no procedure
_A_NUMBER = object()            # a guard: the global still holds a number
_PRIMITIVE = object()           # a guard: the global is still its primitive


def guard_holds(namespace: dict, name: str, expected, builtins: dict) -> bool:
    """Whether the global ``name`` still is what the generated code assumed of it."""
    value = namespace.get(name, _NOT_A_PROCEDURE)
    if expected is _NOT_A_PROCEDURE:
        return not callable(value)
    if expected is _A_NUMBER:
        return _is_number(value)
    if expected is _PRIMITIVE:
        return builtins.get(name) is value
    return value is expected


def _is_atom(node) -> bool:
    return node.__class__ is Const or node.__class__ is LocalRef or node.__class__ is GlobalRef


def _describe(node) -> str:
    return {"Seq": "a sequence of expressions (begin) for their effects", "SetLocal": "set!",
            "SetGlobal": "define or set! of a global", "Lambda": "a procedure made inside it"}.get(
        node.__class__.__name__, node.__class__.__name__)


# -- the tangent rules, as code ---------------------------------------------------------------------

def _one(node) -> bool:
    return node.__class__ is Const and node.value.__class__ is int and node.value == 1


def _callee(global_name, span):
    """The atom a primitive is called by: the global of that name, or (a primitive a closure
    captured) the constant primitive itself."""
    return GlobalRef(global_name, span) if global_name.__class__ is str else global_name


def number_items(value) -> list | None:
    """The elements of a proper list of numbers (the empty list too), or None."""
    items = list_to_python(value) if value is Nil or value.__class__ is Pair else None
    return items if items is not None and all(_is_number(item) for item in items) else None


def _call(name, args, span):
    return Call(GlobalRef(name, span), list(args), span)


def times(a, b, span):
    """(* a b), without multiplying by an exact 1 (the seed)."""
    if _one(a):
        return b
    if _one(b):
        return a
    return _call("*", (a, b), span)


def tangent_rule(name: str, vals: list, result, span):
    """The tangent of (name vals…), whose primal is the atom ``result``."""
    ts = [v.tangent for v in vals]
    ps = [v.primal for v in vals]
    if name == "+":
        terms = [t for t in ts if t is not None]
        return terms[0] if len(terms) == 1 else _call("+", terms, span)
    if name == "-":
        if len(vals) == 1:
            return _call("-", ts, span)
        rest = [t for t in ts[1:] if t is not None]
        if ts[0] is None:
            return _call("-", [rest[0] if len(rest) == 1 else _call("+", rest, span)], span)
        return _call("-", [ts[0]] + rest, span) if rest else ts[0]
    if name == "*":
        if len(vals) == 1:
            return ts[0]
        terms = []
        if ts[0] is not None:
            terms.append(times(ts[0], ps[1], span))
        if ts[1] is not None:
            terms.append(times(ps[0], ts[1], span))
        return terms[0] if len(terms) == 1 else _call("+", terms, span)
    if name == "/":
        if len(vals) == 1:          # (/ b) = 1/b: d = -db/b²
            return _call("-", [_call("/", [times(result, ts[0], span), ps[0]], span)], span)
        terms = []
        if ts[0] is not None:
            terms.append(_call("/", [ts[0], ps[1]], span))
        if ts[1] is not None:
            terms.append(_call("-", [_call("/", [times(result, ts[1], span), ps[1]], span)], span))
        return terms[0] if len(terms) == 1 else _call("+", terms, span)
    (a,), (t,) = ps, ts
    if name == "square":
        return times(_call("*", [Const(2, span), a], span), t, span)
    if name == "sin":
        return times(_call("cos", [a], span), t, span)
    if name == "cos":
        return times(_call("-", [_call("sin", [a], span)], span), t, span)
    if name == "exp":
        return times(result, t, span)
    if name == "sinh":
        return times(_call("cosh", [a], span), t, span)
    if name == "cosh":
        return times(_call("sinh", [a], span), t, span)
    if name == "tanh":
        return times(_call("-", [Const(1, span), _call("*", [result, result], span)], span), t, span)
    if name == "tan":
        return times(_call("+", [Const(1, span), _call("*", [result, result], span)], span), t, span)
    if name == "atan":
        return _call("/", [t, _call("+", [Const(1, span), _call("*", [a, a], span)], span)], span)
    if name == "asinh":
        return _call("/", [t, _call("sqrt", [_call("+", [_call("*", [a, a], span), Const(1, span)], span)], span)],
                     span)
    if name in ("inexact", "exact->inexact"):
        return t
    raise AssertionError(f"no tangent rule for {name}")


def _count_uses(root: Lambda) -> dict:
    uses: dict = {}
    stack = [root.body]
    while stack:
        node = stack.pop()
        if node.__class__ is LocalRef:
            uses[node.var] = uses.get(node.var, 0) + 1
        else:
            stack.extend(children(node))
    return uses


def _lets(root: Lambda):
    """(holder, field, Let) for every binding of one variable, each Let after those it is in."""
    found = []
    stack = [(root, "body")]
    while stack:
        holder, field = stack.pop()
        node = getattr(holder, field)
        cls = node.__class__
        if cls is Let:
            if not node.recursive and len(node.variables) == 1:
                found.append((holder, field, node))
            for index, init in enumerate(node.inits):
                if init.__class__ is Lambda:
                    stack.append((init, "body"))
            stack.append((node, "body"))
        elif cls is If:
            stack.extend(((node, "then"), (node, "otherwise")))
    return found


def remove_dead(root: Lambda, pure: set):
    """Drop the bindings nothing uses whose computation cannot raise (``pure``): the primal
    value of the function, when only its tangent is returned, and what only it needed.  A
    computation that may raise stays, so the generated code fails where the program does."""
    while True:
        uses = _count_uses(root)
        removed = False
        for holder, field, node in reversed(_lets(root)):
            variable = node.variables[0]
            if uses.get(variable, 0) == 0 and variable in pure and getattr(holder, field) is node:
                setattr(holder, field, node.body)
                removed = True
        if not removed:
            return


def inline_single_uses(root: Lambda, unnamed: set):
    """Put a value used once back into the expression that uses it, where that expression is
    in the same straight-line code: `(let ((v3 (* a b))) (+ v3 1))` becomes `(+ (* a b) 1)`,
    which the compiler computes as one unit of arithmetic.  The code has no side effects, so
    computing a value later, where it is used, cannot be seen.  A variable the program named
    (``unnamed`` are those it did not) stays, for the code to read as the program does.
    Iterative: a chain of lets is processed as one block."""
    uses = _count_uses(root)
    chains = [(root, "body")]
    while chains:
        holder, field = chains.pop()
        node = getattr(holder, field)
        items = []
        while node.__class__ is Let and not node.recursive and len(node.variables) == 1:
            items.append((node.variables[0], node.inits[0], node.span))
            node = node.body
        end = node
        pending: dict = {}

        def substitute(expression):
            if expression.__class__ is LocalRef:
                return pending.pop(expression.var, expression)
            if expression.__class__ is Call:
                expression.args = [pending.pop(a.var, a) if a.__class__ is LocalRef else a
                                   for a in expression.args]
            elif expression.__class__ is If:
                expression.test = substitute(expression.test)
            return expression
        kept = []
        for variable, init, span in items:
            init = substitute(init)
            if uses.get(variable) == 1 and variable in unnamed and init.__class__ is Call \
                    and init.fn.__class__ is not Const:
                pending[variable] = init
            else:
                kept.append((variable, init, span))
        end = substitute(end)
        for variable in list(pending):       # not used here after all: keep its binding
            kept.append((variable, pending.pop(variable), None))
        for variable, init, span in reversed(kept):
            end = Let([variable], [init], end, span=span)
        setattr(holder, field, end)
        # the blocks inside: branches, loops and joins, each a chain of its own
        for variable, init, span in kept:
            if init.__class__ is Lambda:
                chains.append((init, "body"))
        last = end
        while last.__class__ is Let and not last.recursive and len(last.variables) == 1:
            last = last.body
        if last.__class__ is If:
            chains.extend(((last, "then"), (last, "otherwise")))
        elif last.__class__ is Let:
            chains.extend((init, "body") for init in last.inits if init.__class__ is Lambda)
            chains.append((last, "body"))


def mark_captured(root: Lambda):
    """Set the compiler's flags on the generated code: a variable is captured when a lambda
    other than the one whose frame holds it refers to it (a work stack: no recursion)."""
    stack = [(root.body, root)]
    while stack:
        node, where = stack.pop()
        if node.__class__ is LocalRef:
            if node.var.owner is not where:
                node.var.captured = True
            continue
        inside = node if node.__class__ is Lambda else where
        stack.extend((child, inside) for child in children(node))


def free_variables(node: Lambda) -> list:
    """The variables ``node`` refers to that it does not bind, in the order first met."""
    bound = set()
    found: dict = {}
    stack = [node]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is Lambda:
            bound.update(item.params)
            if item.rest is not None:
                bound.add(item.rest)
        elif cls is Let:
            bound.update(item.variables)
        elif cls is LocalRef or cls is SetLocal:
            found.setdefault(item.var, None)
        stack.extend(children(item))
    return [variable for variable in found if variable not in bound]


KNOWN = _known()
