"""Core forms → Python code, built with the `ast` module and compiled once.

A Scheme procedure becomes a Python function, a local variable a Python local (a closure cell
when an inner lambda captures it; `set!` from inside becomes `nonlocal`), a global variable a
Python global of a namespace that *is* the interpreter's global environment.

Spans: every node that can fail gets, as its Python line number, an index into the span table.
Python's traceback then tells, for each frame, the Scheme form it was evaluating (errors.py).

Tail calls: a call in tail position returns a `TailCall` (runtime.py), except a self call that
cannot be told from a jump, which becomes a loop: `while True` with the parameters reassigned.
A non-tail call site finishes any TailCall it receives.  A call to a global that holds a
built-in primitive is a plain Python call: primitives never return a TailCall.
"""

from __future__ import annotations

import ast
import warnings
import weakref
from fractions import Fraction as _Fraction

from ..ad.tags import Tracked
from ..lang.datum import Nil
from .core import (Call, Const, GlobalRef, If, Lambda, Let, LocalRef, Node, Seq, SetGlobal,
                   SetLocal, Variable)
from .errors import GENERATED_FILE, SchemeSyntaxError
from .fusion import FALL_THROUGH, MATH_FUNCTIONS, Tree, analyze, lazy_recorder
from .primitives.registry import BUILTINS

TOPLEVEL_NAME = "\0top"
RESULT = "\0r"
_PYTHON_CONSTANTS = (bool, int, float, str, type(None))
_OPERATORS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div}
_COMPARISONS = {"=": ast.Eq, "<": ast.Lt, ">": ast.Gt, "<=": ast.LtE, ">=": ast.GtE}

_EXACT_LEAF_BOUND = 1 << 4096
_CELL_PATHS = {"car": ("car",), "cdr": ("cdr",), "cadr": ("cdr", "car"), "cddr": ("cdr", "cdr"),
               "caddr": ("cdr", "cdr", "car")}

HELPER_NAMES = {
    "tail_call": "\0TailCall",
    "make_tail_call": "\0tail_call",
    "run_tail": "\0run_tail",
    "rest_list": "\0rest_list",
    "check_set": "\0check_set",
    "define_global": "\0define",
    "tick": "\0tick",
}


class _Function:
    """The Python function being generated: a lambda, or the wrapper of a top-level form."""

    def __init__(self, node: Lambda | None, parent: "_Function | None"):
        self.node = node
        self.parent = parent
        self.nonlocals: set[str] = set()
        self.globals: set[str] = set()
        self.loop_allowed = False
        self.loop_used = False
        self.temps = 0
        self.self_name: str | None = None   # the Python name the enclosing scope binds us to


class Compiler:
    def __init__(self, spans: list, constants: dict, is_builtin_procedure, is_builtin_name,
                 is_tail_builder):
        self.spans = spans                      # span table shared by all compiled code
        self.span_index: dict[int, int] = {}
        self.constants = constants              # the generated code's builtins namespace
        self.is_builtin_procedure = is_builtin_procedure  # a global still bound to its primitive
        self.is_builtin_name = is_builtin_name            # a name the primitives table defines
        self.is_tail_builder = is_tail_builder
        self.function_counter = 0
        self.count_steps = False     # emit a step count at every call and loop iteration
        self.fuse = True             # compile arithmetic expressions as one unit (fusion.py)
        self.plain_mode = False      # inside the plain body of generated code (Lambda.plain_entry)
        self.plain_spoiled = False   # that body met an exact fraction: only the generic one is kept
        self.stmts: list = []
        self.fn: _Function | None = None
        # the core form each compiled procedure came from, for the derivative operators to read
        # (ad/source_forward.py); weak, so that code no longer reachable is not kept for it
        self.lambda_of_code: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self._lambda_named: dict = {}

    # -- entry point -----------------------------------------------------------------------------

    def compile_forms(self, nodes: list[Node], namespace: dict) -> list:
        """Python functions, one per top-level form, each returning the form's value."""
        module_body = []
        for index, node in enumerate(nodes):
            self.fn = _Function(None, None)
            self.stmts = []
            self.tail(node)
            body = self._declarations(self.fn) + self.stmts
            definition = ast.FunctionDef(name=f"{TOPLEVEL_NAME}{index}", args=_arguments([], None),
                                         body=body or [ast.Return(ast.Constant(None))],
                                         decorator_list=[], returns=None, type_comment=None)
            self._locate(definition, node.span)
            module_body.append(definition)
        module = ast.Module(body=module_body, type_ignores=[])
        _fill_locations(module)
        try:
            with warnings.catch_warnings():
                # Python warns about calls of literals, e.g. `(5 3)`; the run-time error says more.
                warnings.simplefilter("ignore")
                code = compile(module, GENERATED_FILE, "exec")
        except RecursionError:
            raise SchemeSyntaxError("expression nested too deeply to compile",
                                    nodes[0].span if nodes else None) from None
        self._record_lambdas(code)
        local_namespace: dict = {}
        exec(code, namespace, local_namespace)
        return [local_namespace[f"{TOPLEVEL_NAME}{index}"] for index in range(len(nodes))]

    def compile_procedure(self, node: Lambda, namespace: dict):
        """The procedure a Lambda made elsewhere than by the expander compiles to (generated
        code), in ``namespace``; the compiler's state around it is kept."""
        saved = self.fn, self.stmts
        try:
            return self.compile_forms([node], namespace)[0]()
        finally:
            self.fn, self.stmts = saved

    def _record_lambdas(self, code):
        named, self._lambda_named = self._lambda_named, {}
        stack = [code]
        while stack:
            item = stack.pop()
            node = named.get(item.co_name)
            if node is not None:
                self.lambda_of_code[item] = node
            stack.extend(const for const in item.co_consts if const.__class__ is item.__class__)

    # -- helpers ---------------------------------------------------------------------------------

    def _line(self, span) -> int:
        if span is None:
            return 0
        key = id(span)
        index = self.span_index.get(key)
        if index is None or self.spans[index] is not span:
            self.spans.append(span)
            index = len(self.spans) - 1
            self.span_index[key] = index
        return index

    def _locate(self, node, span):
        line = self._line(span)
        if line:
            node.lineno = node.end_lineno = line
            node.col_offset = node.end_col_offset = 0
        return node

    def constant(self, value) -> ast.expr:
        if value.__class__ in _PYTHON_CONSTANTS:
            return ast.Constant(value)
        name = f"\0k{len(self.constants)}"
        self.constants[name] = value
        return ast.Name(name, ast.Load())

    def named_constant(self, name: str, value) -> ast.Name:
        """A value the generated code refers to by a fixed name (made once per interpreter)."""
        key = f"\0{name}"
        self.constants.setdefault(key, value)
        return ast.Name(key, ast.Load())

    def lazy_constant(self, make) -> ast.Name:
        """A constant made by ``make(its name)``: the value may replace itself."""
        name = f"\0k{len(self.constants)}"
        self.constants[name] = make(name)
        return ast.Name(name, ast.Load())

    def temp(self) -> str:
        self.fn.temps += 1
        return f"\0t{self.fn.temps}"

    def emit(self, statement):
        self.stmts.append(statement)

    def block(self, compile_into) -> list:
        saved = self.stmts
        self.stmts = []
        try:
            compile_into()
            return self.stmts
        finally:
            self.stmts = saved

    def _declarations(self, fn: _Function) -> list:
        out = []
        if fn.globals:
            out.append(ast.Global(names=sorted(fn.globals)))
        if fn.nonlocals:
            out.append(ast.Nonlocal(names=sorted(fn.nonlocals)))
        return out

    def _helper(self, key: str) -> ast.Name:
        return ast.Name(HELPER_NAMES[key], ast.Load())

    # -- variables -------------------------------------------------------------------------------

    def load_local(self, var: Variable) -> ast.expr:
        return ast.Name(var.python_name, ast.Load())

    def store_local(self, var: Variable, value: ast.expr, span):
        if var.owner is not self.fn.node:
            self.fn.nonlocals.add(var.python_name)
        self.emit(self._locate(ast.Assign(targets=[ast.Name(var.python_name, ast.Store())], value=value), span))

    def store_global(self, name: str, value: ast.expr, span, definition: bool):
        self.fn.globals.add(name)
        if not definition:
            self.emit(self._locate(ast.Expr(ast.Call(self._helper("check_set"), [ast.Constant(name)], [])), span))
        if self.is_builtin_name(name):
            # Code compiled earlier calls this name without finishing tail calls.
            value = ast.Call(self._helper("define_global"), [value], [])
        self.emit(self._locate(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), span))

    # -- the three compilation modes -------------------------------------------------------------

    def tail(self, node: Node):
        """Statements that return the value of ``node``."""
        cls = node.__class__
        if cls is If:
            test = self.test(node.test)
            then = self.block(lambda: self.tail(node.then))
            otherwise = self.block(lambda: self.tail(node.otherwise))
            self.emit(self._locate(ast.If(test, then, otherwise), node.span))
        elif cls is Seq:
            for item in node.nodes[:-1]:
                self.effect(item)
            self.tail(node.nodes[-1])
        elif cls is Let:
            self.bind(node)
            self.tail(node.body)
        elif cls is Call:
            self.tail_call(node)
        else:
            value = self.expr(node)
            self.emit(self._locate(ast.Return(value), node.span))

    def effect(self, node: Node):
        """Statements that evaluate ``node`` for its effects."""
        cls = node.__class__
        if cls is If:
            test = self.test(node.test)
            then = self.block(lambda: self.effect(node.then)) or [ast.Pass()]
            otherwise = self.block(lambda: self.effect(node.otherwise))
            self.emit(self._locate(ast.If(test, then, otherwise), node.span))
        elif cls is Seq:
            for item in node.nodes:
                self.effect(item)
        elif cls is Let:
            self.bind(node)
            self.effect(node.body)
        elif cls is SetLocal:
            self.store_local(node.var, self.expr(node.value), node.span)
        elif cls is SetGlobal:
            self.store_global(node.name, self.expr(node.value), node.span, node.is_definition)
        elif cls is Call:
            call = self.call_expr(node)
            if self.returns_plain_value(node):
                self.emit(self._locate(ast.Expr(call), node.span))
            else:
                self.emit(self._locate(ast.Expr(ast.Call(self._helper("run_tail"), [call], [])), node.span))
        elif cls is Const:
            pass
        elif cls is Lambda:
            pass
        else:
            self.emit(self._locate(ast.Expr(self.expr(node)), node.span))

    def expr(self, node: Node) -> ast.expr:
        """A Python expression for the value of ``node`` (statements it needs go first)."""
        cls = node.__class__
        if cls is Const:
            if self.plain_mode and node.value.__class__ is _Fraction:
                self.plain_spoiled = True       # Python would add it without making 1/1 an integer
            return self.constant(node.value)
        if cls is LocalRef:
            return self._locate(self.load_local(node.var), node.span)
        if cls is GlobalRef:
            return self._locate(ast.Name(node.name, ast.Load()), node.span)
        if cls is Call:
            if self.plain_mode and node.plain is not None:
                plain = self.plain_expr(node)
                if plain is not None:
                    return plain
            if self.plain_mode:
                self.fuse = False
                try:
                    return self.no_fraction(self._call_value(node))
                finally:
                    self.fuse = True
            return self._call_value(node)
        if cls is Lambda:
            return ast.Name(self.function(node), ast.Load())
        return self._other_expr(node, cls)

    def _call_value(self, node: Call) -> ast.expr:
        if self.fuse:
            tree = analyze(node, self.is_builtin_procedure)
            if tree is not None:
                return self.fused(node, tree)
        call = self.call_expr(node)
        if self.returns_plain_value(node):
            return call
        # (r if (r := f(…)).__class__ is not TailCall else run_tail(r))
        check = ast.Compare(ast.Attribute(ast.NamedExpr(ast.Name(RESULT, ast.Store()), call), "__class__", ast.Load()),
                            [ast.IsNot()], [self._helper("tail_call")])
        return self._locate(ast.IfExp(check, ast.Name(RESULT, ast.Load()),
                                      ast.Call(self._helper("run_tail"), [ast.Name(RESULT, ast.Load())], [])),
                            node.span)

    def _other_expr(self, node: Node, cls) -> ast.expr:
        if cls is If:
            test = self.test(node.test)
            then_value = []
            otherwise_value = []
            then = self.block(lambda: then_value.append(self.expr(node.then)))
            otherwise = self.block(lambda: otherwise_value.append(self.expr(node.otherwise)))
            if not then and not otherwise:
                return ast.IfExp(test, then_value[0], otherwise_value[0])
            result = self.temp()
            then.append(ast.Assign(targets=[ast.Name(result, ast.Store())], value=then_value[0]))
            otherwise.append(ast.Assign(targets=[ast.Name(result, ast.Store())], value=otherwise_value[0]))
            self.emit(self._locate(ast.If(test, then, otherwise), node.span))
            return ast.Name(result, ast.Load())
        if cls is Seq:
            for item in node.nodes[:-1]:
                self.effect(item)
            return self.expr(node.nodes[-1])
        if cls is Let:
            self.bind(node)
            return self.expr(node.body)
        if cls in (SetLocal, SetGlobal):
            self.effect(node)
            return ast.Constant(None)
        raise AssertionError(f"unknown core node {cls.__name__}")

    def test(self, node: Node) -> ast.expr:
        return ast.Compare(self.expr(node), [ast.IsNot()], [ast.Constant(False)])

    def bind(self, node: Let):
        if node.recursive:
            for var, init in zip(node.variables, node.inits):
                if isinstance(init, Lambda):
                    self.store_local(var, ast.Name(self.function(init), ast.Load()), node.span)
                else:
                    self.store_local(var, self.expr(init), node.span)
        else:
            values = self.in_order(node.inits, node.span)
            for var, value in zip(node.variables, values):
                self.store_local(var, value, node.span)

    # -- calls -----------------------------------------------------------------------------------

    def returns_plain_value(self, node: Call) -> bool:
        fn = node.fn
        if fn.__class__ is Const:
            return True
        return fn.__class__ is GlobalRef and self.is_builtin_procedure(fn.name)

    def call_expr(self, node: Call) -> ast.expr:
        fn, *args = self.in_order([node.fn] + node.args, node.span)
        return self._locate(ast.Call(fn, args, []), node.span)

    def in_order(self, nodes: list[Node], span) -> list[ast.expr]:
        """Expressions for the values of ``nodes``, computed left to right.  A node compiled
        into statements (a fused expression, an `if`) runs them before the expressions to its
        left are evaluated, so those are computed into temporaries first."""
        values = []
        settled = 0         # values[:settled] are in temporaries or constants already
        for node in nodes:
            saved, self.stmts = self.stmts, []
            try:
                value = self.expr(node)
                statements = self.stmts
            finally:
                self.stmts = saved
            if statements:
                for index in range(settled, len(values)):
                    if not _settled(values[index]):
                        name = self.temp()
                        self.emit(self._locate(ast.Assign(targets=[ast.Name(name, ast.Store())], value=values[index]),
                                               span))
                        values[index] = ast.Name(name, ast.Load())
                settled = len(values)
                self.stmts.extend(statements)
            values.append(value)
        return values

    def tail_call(self, node: Call):
        fn_node = node.fn
        me = self.fn
        lambda_node = me.node
        if lambda_node is not None and me.loop_allowed:
            if fn_node.__class__ is LocalRef and fn_node.var is lambda_node.self_var and \
                    not fn_node.var.assigned and len(node.args) == len(lambda_node.params) and \
                    lambda_node.rest is None:
                self.loop_again(node, lambda_node)
                return
            if fn_node.__class__ is GlobalRef and fn_node.name == lambda_node.self_global and \
                    me.self_name is not None and lambda_node.rest is None and \
                    len(node.args) == len(lambda_node.params):
                # The global may have been redefined since: jump only if it still holds us.
                temps = self.argument_temps(node)
                is_self = ast.Compare(ast.Name(fn_node.name, ast.Load()), [ast.Is()],
                                      [ast.Name(me.self_name, ast.Load())])
                jump = self.block(lambda: self.jump(lambda_node, [ast.Name(t, ast.Load()) for t in temps], node.span))
                self.emit(self._locate(ast.If(is_self, jump, []), node.span))
                fn = self._locate(ast.Name(fn_node.name, ast.Load()), node.span)
                self.emit_tail_call(fn, [ast.Name(t, ast.Load()) for t in temps], node)
                return
        if fn_node.__class__ is GlobalRef and self.is_tail_builder(fn_node.name):
            call = self.call_expr(node)
            self.emit(self._locate(ast.Return(call), node.span))
            return
        if self.returns_plain_value(node):
            self.emit(self._locate(ast.Return(self.expr(node)), node.span))
            return
        fn, *args = self.in_order([fn_node] + node.args, node.span)
        self.emit_tail_call(fn, args, node)

    def fused(self, node: Call, tree: Tree) -> ast.expr:
        """The value of the arithmetic expression ``node`` computed as one unit where its leaves
        allow, by its calls otherwise (fusion.py):

            r = FALL_THROUGH
            if <each global of the tree still holds its primitive>:
                if <every leaf a float (or an exact integer, where allowed)>:
                    try: r = <the Python operations>
                    except (ArithmeticError, ValueError): pass
                elif <a leaf on a tape>:
                    r = <the tree's recorder>(<leaves>)
            if r is FALL_THROUGH:
                r = <the calls>

        A lone comparison of variables and literals, which cannot raise, is an expression:
        `<comparison> if <the globals hold their primitives, the leaves are plain> else <the call>`.
        """
        # a global leaf is read once, without raising: unbound, it is left to the calls
        read = {leaf: self._read_global(leaf, node.span) for leaf in tree.leaves if leaf.__class__ is str}

        def load(leaf):
            return ast.Name(read[leaf], ast.Load()) if leaf.__class__ is str else self.load_local(leaf)

        def leaves():
            return [load(leaf) for leaf in tree.leaves]

        def class_of(leaf):
            return ast.Attribute(leaf, "__class__", ast.Load())

        def all_of(tests):
            return tests[0] if len(tests) == 1 else ast.BoolOp(ast.And(), tests)

        def assign(value):
            return ast.Assign(targets=[ast.Name(result, ast.Store())], value=value)

        def fall_through():
            return self.named_constant("fall_through", FALL_THROUGH)

        unchanged = [ast.Compare(ast.Name(name, ast.Load()), [ast.Is()],
                                 [self.named_constant(f"primitive {name}", BUILTINS[name])])
                     for name in sorted(tree.names)]
        if tree.exact_safe and any(name in ("*", "square") for name, _ in tree.operations):
            # Python multiplies exact integers in one call nothing interrupts: a leaf too large
            # for a product of them to be quick goes to the primitive, which checks the size first
            bound = self.named_constant("exact leaf bound", _EXACT_LEAF_BOUND)
            negative_bound = self.named_constant("negative exact leaf bound", -_EXACT_LEAF_BOUND)
            float_class = self.named_constant("float", float)
            int_class = self.named_constant("int", int)
            plain = [ast.BoolOp(ast.Or(), [
                ast.Compare(class_of(leaf), [ast.Is()], [float_class]),
                ast.BoolOp(ast.And(), [ast.Compare(class_of(leaf), [ast.Is()], [int_class]),
                                       ast.Compare(negative_bound, [ast.Lt(), ast.Lt()], [leaf, bound])])])
                     for leaf in leaves()]
        elif tree.exact_safe:
            classes = self.named_constant("float or int", frozenset((float, int)))
            plain = [ast.Compare(class_of(leaf), [ast.In()], [classes]) for leaf in leaves()]
        else:
            plain = [ast.Compare(class_of(leaf), [ast.Is()], [self.named_constant("float", float)])
                     for leaf in leaves()]
        if tree.compares and len(tree.operations) == 1:
            # a comparison of plain numbers cannot raise: (if <…> <comparison> <the call>)
            self.fuse = False
            try:
                calls = self.expr(node)
            finally:
                self.fuse = True
            name, operands = tree.operations[0]
            fast = self._fused_value(name, [load(tree.leaves[what]) if kind == "leaf" else self._literal(what)
                                            for kind, what in operands])
            return self._locate(ast.IfExp(all_of(unchanged + plain), fast, calls), node.span)
        result = self.temp()
        compute = ast.Try(body=self._fused_operations(tree, result, load),
                          handlers=[ast.ExceptHandler(type=self.named_constant("arithmetic errors",
                                                                               (ArithmeticError, ValueError)),
                                                      name=None, body=[ast.Pass()])],
                          orelse=[], finalbody=[])
        otherwise = []
        # A comparison has no derivative (the primitives look under perturbations), and a single
        # operation on a tape is recorded as cheaply by its primitive's own inline path.
        if not tree.compares and len(tree.operations) > 1:
            on_tape = [ast.Compare(class_of(leaf), [ast.Is()], [self.named_constant("Tracked", Tracked)])
                       for leaf in leaves()]
            recorder = self.lazy_constant(lambda name: lazy_recorder(tree, self.constants, name))
            otherwise.append(ast.If(on_tape[0] if len(on_tape) == 1 else ast.BoolOp(ast.Or(), on_tape),
                                    [assign(ast.Call(recorder, leaves(), []))], []))
        self.emit(self._locate(assign(fall_through()), node.span))
        self.emit(self._locate(ast.If(all_of(unchanged), [ast.If(all_of(plain), [compute], otherwise)], []),
                               node.span))
        self.fuse = False
        try:
            calls = self.block(lambda: self.emit(assign(self.expr(node))))
        finally:
            self.fuse = True
        self.emit(self._locate(ast.If(ast.Compare(ast.Name(result, ast.Load()), [ast.Is()], [fall_through()]),
                                      calls, []), node.span))
        return ast.Name(result, ast.Load())

    def _read_global(self, name: str, span) -> str:
        """A temporary holding the global ``name``'s value, or FALL_THROUGH where it is unbound."""
        temp = self.temp()
        fall_through = self.named_constant("fall_through", FALL_THROUGH)
        self.emit(self._locate(ast.Try(
            body=[ast.Assign(targets=[ast.Name(temp, ast.Store())], value=ast.Name(name, ast.Load()))],
            handlers=[ast.ExceptHandler(type=self.named_constant("NameError", NameError), name=None,
                                        body=[ast.Assign(targets=[ast.Name(temp, ast.Store())], value=fall_through)])],
            orelse=[], finalbody=[]), span))
        return temp

    def _fused_operations(self, tree: Tree, result: str, load) -> list:
        """Statements computing ``tree`` with Python's operators, as its recorder does; the
        root's value goes to ``result``."""
        statements = []
        values = []
        last = len(tree.operations) - 1

        def operand(reference):
            kind, what = reference
            if kind == "leaf":
                return load(tree.leaves[what])
            if kind == "op":
                return ast.Name(values[what], ast.Load())
            return self._literal(what)

        for index, (name, operands) in enumerate(tree.operations):
            values.append(result if index == last else self.temp())
            statements.append(ast.Assign(targets=[ast.Name(values[-1], ast.Store())],
                                         value=self._fused_value(name, [operand(r) for r in operands])))
        return statements

    def _literal(self, number) -> ast.expr:
        # ±inf and NaN have no literal in Python source
        return ast.Constant(number) if number - number == 0 else self.constant(number)

    def _fused_value(self, name: str, args: list) -> ast.expr:
        """One operation of a fused tree, of operands already compiled (a name or a constant)."""
        if name in _OPERATORS:
            return ast.BinOp(args[0], _OPERATORS[name](), args[1])
        if name in _COMPARISONS:
            return ast.Compare(args[0], [_COMPARISONS[name]()], [args[1]])
        if name == "negate":
            return ast.UnaryOp(ast.USub(), args[0])
        if name == "square":
            return ast.BinOp(args[0], ast.Mult(), args[0])
        return ast.Call(self.named_constant(f"math {name}", MATH_FUNCTIONS[name]), args, [])

    def emit_tail_call(self, fn, args, node):
        site = ast.Constant(self._line(node.span))
        tail_call = ast.Call(self._helper("make_tail_call"), [fn, ast.Tuple(args, ast.Load()), site], [])
        self.emit(self._locate(ast.Return(self._locate(tail_call, node.span)), node.span))

    def argument_temps(self, node: Call) -> list[str]:
        temps = []
        for arg in node.args:
            value = self.expr(arg)
            name = self.temp()
            self.emit(self._locate(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), node.span))
            temps.append(name)
        return temps

    def loop_again(self, node: Call, lambda_node: Lambda):
        values = self.in_order(node.args, node.span)
        self.jump(lambda_node, values, node.span)

    def jump(self, lambda_node: Lambda, values: list, span):
        self.fn.loop_used = True
        if self.count_steps:
            self.emit(ast.Expr(ast.Call(self._helper("tick"), [], [])))
        if values:
            targets = [ast.Name(p.python_name, ast.Store()) for p in lambda_node.params]
            if len(targets) == 1:
                assign = ast.Assign(targets=targets, value=values[0])
            else:
                assign = ast.Assign(targets=[ast.Tuple(targets, ast.Store())], value=ast.Tuple(values, ast.Load()))
            self.emit(self._locate(assign, span))
        self.emit(ast.Continue())

    # -- lambda ----------------------------------------------------------------------------------

    def _plain_and_generic(self, node: Lambda) -> list:
        """The body of generated code twice: on Python's arithmetic when the inputs are plain
        numbers, on the primitives otherwise (duals of an outer derivative, fractions …)."""
        tests = [_plain_check(self, variable, kind) for variable, kind in node.plain_entry]
        self.plain_mode = True
        self.plain_spoiled = False
        try:
            self.stmts = []
            self.tail(node.body)
            plain = self.stmts
        finally:
            self.plain_mode = False
        self.stmts = []
        self.tail(node.body)
        generic = self.stmts
        if self.plain_spoiled:
            return generic
        if not tests:
            return plain
        test = tests[0] if len(tests) == 1 else ast.BoolOp(ast.And(), tests)
        return [ast.If(test, plain, [])] + generic

    def plain_expr(self, node: Call):
        """Python's own operation for a Call of generated code whose arguments are numbers that
        are floats, exact integers or fractions (the plain body's entry checked its inputs):
        there Python's + − × < = and math functions compute what the primitives do.  A product
        or quotient of two exact numbers goes to the primitive (exact division, and the size
        bound on exact products); anything that raises sends the caller back to the duals."""
        name = node.plain
        args = [self.expr(arg) for arg in node.args] if len(node.args) <= 1 else self.in_order(node.args, node.span)
        count = len(args)
        if name in _CELL_PATHS and count == 1:
            # a pair's fields; anything else has none, raises, and the duals or the tape decide
            value = args[0]
            for field in _CELL_PATHS[name]:
                value = ast.Attribute(value, field, ast.Load())
            return self._locate(value, node.span)
        if name == "null?" and count == 1:
            return ast.Compare(args[0], [ast.Is()], [self.named_constant("the empty list", Nil)])
        if name == "stack push":
            return ast.Tuple(args, ast.Load())
        if name == "stack item":
            return ast.Subscript(args[0], args[1], ast.Load())
        if name == "adjoint add":
            # array[i] += v, as an expression (its value is not used)
            array, index, value = args
            total = ast.BinOp(ast.Subscript(array, index, ast.Load()), ast.Add(), value)
            return ast.Call(ast.Attribute(array, "__setitem__", ast.Load()), [index, total], [])
        if name == "stack empty":
            return ast.Compare(args[0], [ast.Is()], [ast.Constant(None)])
        if name in ("+", "-") and count >= 1:
            if count == 1:
                return args[0] if name == "+" else ast.UnaryOp(ast.USub(), args[0])
            value = args[0]
            for arg in args[1:]:
                value = ast.BinOp(value, _OPERATORS[name](), arg)
            return self._locate(value, node.span)
        if name in _COMPARISONS and count == 2:
            return ast.Compare(args[0], [_COMPARISONS[name]()], [args[1]])
        if name in ("*", "/") and count == 2:
            return self._inexact_or_primitive(name, args[0], args[1], node)
        if name == "square" and count == 1:
            return self._inexact_or_primitive("*", args[0], args[0], node)
        if name in MATH_FUNCTIONS and name not in ("log", "sqrt") and count == 1:
            return ast.Call(self.named_constant(f"math {name}", MATH_FUNCTIONS[name]), args, [])
        return None

    def no_fraction(self, value: ast.expr) -> ast.expr:
        """In the plain body every number is a float or an exact integer, so Python's + and −
        compute what the primitives do: a value that comes back a fraction (from a primitive or
        a helper) ends the plain body, and the duals or the tape compute the derivative instead
        (Python's Fraction keeps 1/1 where the primitives make it 1)."""
        return ast.Call(self.named_constant("no fraction", _no_fraction), [value], [])

    def _inexact_or_primitive(self, name, a, b, node):
        """(a op b if a or b is a float else the primitive's (op a b)), each operand computed once:
        a product or quotient of exact integers goes to the primitive (exact division, and the
        size bound on exact products), and may not come back a fraction."""
        names = []
        for value in (a, b):
            if value.__class__ is ast.Name or value.__class__ is ast.Constant:
                names.append(value)
            else:
                temp = self.temp()
                self.emit(self._locate(ast.Assign(targets=[ast.Name(temp, ast.Store())], value=value), node.span))
                names.append(ast.Name(temp, ast.Load()))
        a, b = names
        float_class = self.named_constant("float", float)
        either_float = ast.BoolOp(ast.Or(), [ast.Compare(ast.Attribute(a, "__class__", ast.Load()), [ast.Is()], [float_class]),
                                             ast.Compare(ast.Attribute(b, "__class__", ast.Load()), [ast.Is()], [float_class])])
        primitive = self.named_constant(f"primitive {name}", BUILTINS[name])
        return self._locate(ast.IfExp(either_float, ast.BinOp(a, _OPERATORS[name](), b),
                                      self.no_fraction(ast.Call(primitive, [a, b], []))), node.span)

    def function(self, node: Lambda) -> str:
        """Emit the def of ``node``; return the Python name it is bound to."""
        self.function_counter += 1
        python_name = f"{node.name or 'lambda'} λ{self.function_counter}"
        self._lambda_named[python_name] = node
        outer_fn, outer_stmts = self.fn, self.stmts
        fn = _Function(node, outer_fn)
        fn.self_name = python_name
        fn.loop_allowed = not _captures_own_variables(node)
        self.fn, self.stmts = fn, []
        try:
            if node.plain_entry is not None and not self.plain_mode:
                body = self._plain_and_generic(node)
            else:
                self.tail(node.body)
                body = self.stmts
        finally:
            self.fn, self.stmts = outer_fn, outer_stmts
        if fn.loop_used:
            body = [ast.While(ast.Constant(True), body, [])]
        prologue = []
        if self.count_steps:
            prologue.append(ast.Expr(ast.Call(self._helper("tick"), [], [])))
        if node.rest is not None:
            rest = node.rest.python_name
            prologue.append(ast.Assign(targets=[ast.Name(rest, ast.Store())],
                                       value=ast.Call(self._helper("rest_list"), [ast.Name(rest, ast.Load())], [])))
        definition = ast.FunctionDef(
            name=python_name,
            args=_arguments([p.python_name for p in node.params], node.rest.python_name if node.rest else None),
            body=([ast.Expr(ast.Constant(node.doc))] if node.doc is not None else [])
            + self._declarations(fn) + prologue + body,
            decorator_list=[], returns=None, type_comment=None)
        self._locate(definition, node.span)
        self.emit(definition)
        return python_name


class FractionInPlainCode(ArithmeticError):
    """The plain body of generated code met a fraction: the duals or the tape take over."""


def _no_fraction(value):
    if value.__class__ is _Fraction:
        raise FractionInPlainCode
    return value


def _plain_check(compiler, variable, kind) -> ast.expr:
    numbers = compiler.named_constant("plain number classes", frozenset((float, int)))
    load = ast.Name(variable.python_name, ast.Load())
    if kind == "number":
        return ast.Compare(ast.Attribute(load, "__class__", ast.Load()), [ast.In()], [numbers])
    check = compiler.named_constant("all plain numbers", _all_plain_numbers)
    return ast.Call(check, [load], [])


def _all_plain_numbers(items) -> bool:
    """Whether the list ``items`` holds floats and exact integers only; False for a circular one."""
    node = slow = items
    steps = 0
    while node.__class__ is not type(None) and hasattr(node, "car"):
        if node.car.__class__ is not float and node.car.__class__ is not int:
            return False
        node = node.cdr
        steps += 1
        if steps % 2 == 0:
            slow = slow.cdr
            if slow is node:
                return False
    return True


def _arguments(names: list[str], rest: str | None) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=name) for name in names],
                         vararg=ast.arg(arg=rest) if rest else None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])


def _settled(value: ast.expr) -> bool:
    """Whether statements run after ``value`` is compiled cannot change it: a constant, or a
    name the compiler made (a temporary, a constant, a function), which user code never
    assigns.  Python evaluates any other expression only where it stands."""
    return value.__class__ is ast.Constant or (value.__class__ is ast.Name and value.id.startswith("\0"))


def _captures_own_variables(node: Lambda) -> bool:
    """Whether an inner lambda captures a variable of ``node``'s frame.  Such a frame cannot be
    reused by a loop: each iteration must make fresh bindings for the closures to keep."""
    if any(p.captured for p in node.params) or (node.rest is not None and node.rest.captured):
        return True
    stack = [node.body]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is Let:
            if any(v.captured for v in item.variables):
                return True
            stack.extend(item.inits)
            stack.append(item.body)
        elif cls is If:
            stack.extend((item.test, item.then, item.otherwise))
        elif cls is Seq:
            stack.extend(item.nodes)
        elif cls is Call:
            stack.append(item.fn)
            stack.extend(item.args)
        elif cls in (SetLocal, SetGlobal):
            stack.append(item.value)
    return False


def _fill_locations(tree):
    """Give every node without a span its parent's line, iteratively (trees can be deep).
    The walk is written out (not ast.iter_child_nodes): it visits every node of every program
    compiled, the prelude's at each start."""
    stack = [(tree, 1)]
    pop, push = stack.pop, stack.append
    node_class = ast.AST
    while stack:
        node, line = pop()
        if "lineno" in node._attributes:
            lineno = getattr(node, "lineno", None)
            if not lineno:
                node.lineno = node.end_lineno = line
                node.col_offset = node.end_col_offset = 0
            else:
                line = lineno
                if getattr(node, "end_lineno", None) is None or node.end_lineno < line:
                    node.end_lineno = line
                if getattr(node, "col_offset", None) is None:
                    node.col_offset = 0
                if getattr(node, "end_col_offset", None) is None:
                    node.end_col_offset = 0
        for field in node._fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, node_class):
                        push((item, line))
            elif isinstance(value, node_class):
                push((value, line))
