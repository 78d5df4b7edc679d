"""Datums → core forms: scopes, bodies, definitions and the primitive special forms.

The expander resolves every identifier once.  Scopes map identifiers (symbols, or the aliases a
macro expansion introduced) to what they mean: a local `Variable`, a `Macro`, or a `Special`
form.  What no scope binds is a global variable, looked up when the program runs.
Derived forms (let, cond, do, quasiquote, …) live in derived.py.
"""

from __future__ import annotations

from ..lang.datum import Nil, Pair, Span, Symbol, UnsupportedNumber, make_pair
from ..lang.printer import write_string
from .core import (Call, Const, GlobalRef, If, Lambda, Let, LocalRef, Node, Seq, SetGlobal,
                   SetLocal, Variable)
from .errors import SchemeSyntaxError, fail
from .libraries import Environment
from .syntax_rules import Alias, Macro, base_symbol, is_identifier, strip


class Special:
    """A special form.  A ``rewrites`` handler returns a datum to expand in its place, and a
    ``definition`` (always a rewriter, except define and define-syntax) is allowed only at the
    top level or in a body."""

    __slots__ = ("name", "handler", "definition", "rewrites")

    def __init__(self, name: str, handler, definition: bool = False, rewrites: bool = False):
        self.name = name
        self.handler = handler
        self.definition = definition
        self.rewrites = rewrites or definition


class Literal:
    """A value spliced into a datum by a derived form: it stands for itself (usually a primitive
    procedure, so that what the form means cannot be changed by rebinding a name)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Scope:
    __slots__ = ("bindings", "parent", "owner")

    def __init__(self, parent: "Scope | None", owner: Lambda | None):
        self.bindings: dict = {}
        self.parent = parent
        self.owner = owner

    def bind(self, identifier, span=None) -> Variable:
        if identifier in self.bindings and isinstance(self.bindings[identifier], Variable):
            raise SchemeSyntaxError(f"duplicate binding of {base_symbol(identifier).name}", span)
        variable = Variable(base_symbol(identifier).name, self.owner)
        self.bindings[identifier] = variable
        return variable


SPECIAL_FORMS: dict[str, tuple] = {}
SPECIAL_FORM_DOCS: dict[str, tuple[str, str]] = {}   # name → (signature, paragraph)


def special(name: str, definition: bool = False, rewrites: bool = False,
            signature: str | None = None, doc: str | None = None):
    """Register a special form, with its documentation (documentation.py reads it)."""
    def register(handler):
        SPECIAL_FORMS[name] = (handler, definition, rewrites)
        if doc is not None:
            SPECIAL_FORM_DOCS[name] = (signature, doc)
        return handler
    return register


def keyword(name: str) -> Alias:
    """An identifier that means the global special form ``name`` whatever the user binds."""
    return Alias(Symbol(name), None)


def syntax_list(*items, span=None, tail=Nil):
    result = tail
    for item in reversed(items):
        result = make_pair(item, result, span)
    return result


def elements(form, what: str, span) -> list:
    """The elements of a form that must be a proper list."""
    items = []
    node = form
    mark, steps, limit = None, 0, 1     # Brent's cycle check: eval may be given a circular list
    while node.__class__ is Pair:
        items.append(node.car)
        node = node.cdr
        if node is mark:
            raise SchemeSyntaxError(f"bad syntax in {what}: a circular list", span)
        steps += 1
        if steps == limit:
            mark, steps, limit = node, 0, limit * 2
    if node is not Nil:
        raise SchemeSyntaxError(f"bad syntax in {what}: not a proper list", span)
    return items


def span_of(form, fallback: Span | None) -> Span | None:
    span = form.span if form.__class__ is Pair else None
    return span if span is not None else fallback


class _NamedLambda:
    """A lambda form whose procedure gets a name (from `(define (name …) …)`)."""

    __slots__ = ("name", "formals", "body", "span")

    def __init__(self, name, formals, body, span):
        self.name = name
        self.formals = formals
        self.body = body
        self.span = span


class Expander:
    tick = None       # the interpreter's limits count every form expanded

    def __init__(self, env: Environment, on_global_definition, libraries=None):
        self.env = env                            # the top-level environment being expanded
        self.default_env = env
        self.on_global_definition = on_global_definition
        self.libraries = libraries

    def expand_in(self, env: Environment, data: list) -> list:
        """The forms (datum, span) expanded at the top level of ``env``."""
        outer, self.env = self.env, env
        try:
            return [self.expand_toplevel(datum, span) for datum, span in data]
        finally:
            self.env = outer

    # -- identifiers -----------------------------------------------------------------------------

    def resolve(self, identifier, scope: Scope | None):
        top_level = self.env
        while True:
            s = scope
            top = top_level
            while s is not None:
                binding = s.bindings.get(identifier)
                if binding is not None:
                    return binding
                if s.__class__ is Environment:     # a macro's, defined at a library's top level
                    top = s
                    break
                s = s.parent
            if identifier.__class__ is Alias:
                identifier, scope = identifier.symbol, identifier.env
                if scope is None:       # a keyword() a derived form wrote: the built-in meaning
                    top_level = self.default_env
                continue
            return top.lookup(identifier)

    def reference(self, identifier, scope: Scope | None, span) -> Node:
        binding = self.resolve(identifier, scope)
        if binding.__class__ is Variable:
            if scope is None or binding.owner is not scope.owner:
                binding.captured = True
            return LocalRef(binding, span)
        if binding.__class__ is Symbol:
            return GlobalRef(binding.name, span)
        raise SchemeSyntaxError(f"{base_symbol(identifier).name}: syntax keyword used as a variable "
                                f"(it must come first in a form)", span)

    def head_binding(self, form, scope):
        if form.__class__ is Pair and is_identifier(form.car):
            binding = self.resolve(form.car, scope)
            if binding.__class__ in (Special, Macro):
                return binding
        return None

    # -- expressions -----------------------------------------------------------------------------

    def expand(self, x, scope: Scope | None, span: Span | None = None) -> Node:
        while True:
            if self.tick is not None:
                self.tick()       # a step: so that the limits stop a macro that never ends
            cls = x.__class__
            if cls is Symbol or cls is Alias:
                return self.reference(x, scope, span)
            if cls is not Pair:
                if x is Nil:
                    raise SchemeSyntaxError("empty combination (): a procedure call needs a procedure", span)
                if cls is Literal:
                    return Const(x.value, span)
                if cls is _NamedLambda:
                    return self.make_lambda(x.formals, elements(x.body, "define", span), scope,
                                            x.span, x.name)
                if cls is UnsupportedNumber:
                    return unsupported_number(x, span)
                return Const(strip(x) if cls is list else x, span)
            span = span_of(x, span)
            head = x.car
            if head.__class__ is Symbol or head.__class__ is Alias:
                binding = self.resolve(head, scope)
                if binding.__class__ is Special:
                    if binding.definition:
                        raise SchemeSyntaxError(f"{binding.name}: definitions are allowed only at the "
                                                "top level or at the start of a body", span)
                    if binding.rewrites:
                        x = binding.handler(self, x, scope, span)
                        continue
                    return binding.handler(self, x, scope, span)
                if binding.__class__ is Macro:
                    x = binding.transform(x, span, self, scope)
                    continue
            return self.application(x, scope, span)

    def application(self, form: Pair, scope, span) -> Node:
        items = elements(form, "procedure call", span)
        fn = self.expand(items[0], scope, span)
        args = [self.expand(item, scope, span_of(item, span)) for item in items[1:]]
        return Call(fn, args, span)

    def expand_sequence(self, forms: list, scope, span) -> Node:
        if not forms:
            return Const(None, span)
        nodes = [self.expand(form, scope, span_of(form, span)) for form in forms]
        return nodes[0] if len(nodes) == 1 else Seq(nodes, span)

    # -- lambda and bodies -----------------------------------------------------------------------

    def parse_formals(self, formals, span) -> tuple[list, object]:
        required = []
        node = formals
        while node.__class__ is Pair:
            if not is_identifier(node.car):
                raise SchemeSyntaxError(f"lambda: parameter must be an identifier, got "
                                        f"{write_string(strip(node.car))}", span)
            required.append(node.car)
            node = node.cdr
        if node is not Nil and not is_identifier(node):
            raise SchemeSyntaxError(f"lambda: bad rest parameter {write_string(strip(node))}", span)
        return required, (node if node is not Nil else None)

    def make_lambda(self, formals, body: list, scope, span, name: str | None = None) -> Lambda:
        required, rest = self.parse_formals(formals, span)
        node = Lambda(span, name)
        inner = Scope(scope, node)
        node.params = [inner.bind(p, span) for p in required]
        node.rest = inner.bind(rest, span) if rest is not None else None
        if len(body) > 1 and body[0].__class__ is str:
            # Guile's and Emacs Lisp's docstring: a string literal first in a body with more
            # after it, which evaluating would discard anyway
            node.doc = body[0]
            body = body[1:]
        node.body = self.expand_body(body, inner, span, "lambda")
        return node

    def expand_body(self, forms: list, scope: Scope, span, what: str) -> Node:
        """A body: definitions (internal, letrec* semantics) mixed with expressions."""
        if not forms:
            raise SchemeSyntaxError(f"{what}: empty body", span)
        steps: list = []                 # (Variable, form, span) or (None, form, span)
        queue = [(form, span_of(form, span)) for form in forms]
        queue.reverse()
        while queue:
            form, form_span = queue.pop()
            binding = self.head_binding(form, scope)
            if binding.__class__ is Macro:
                queue.append((binding.transform(form, form_span, self, scope), form_span))
                continue
            if binding.__class__ is Special:
                name = binding.name
                if name == "begin":
                    inner = elements(form.cdr, "begin", form_span)
                    queue.extend((f, span_of(f, form_span)) for f in reversed(inner))
                    continue
                if name == "define":
                    target, value_form = self.parse_define(form, form_span)
                    variable = scope.bind(target, form_span) if target not in scope.bindings else scope.bindings[target]
                    steps.append((variable, value_form, form_span))
                    continue
                if name == "define-syntax":
                    self.define_syntax(form, scope, form_span, lambda ident, macro: scope.bindings.__setitem__(ident, macro))
                    continue
                if binding.rewrites:
                    # define-values, define-record-type, cond-expand, …: rewritten forms
                    queue.append((binding.handler(self, form, scope, form_span), form_span))
                    continue
            steps.append((None, form, form_span))
        if not steps:
            raise SchemeSyntaxError(f"{what}: empty body", span)
        variables = [v for v, _, _ in steps if v is not None]
        nodes = []
        for variable, form, form_span in steps:
            if variable is None:
                nodes.append(self.expand(form, scope, form_span))
            else:
                value = self.expand(form, scope, form_span)
                if isinstance(value, Lambda):
                    value.name = value.name or variable.name
                    value.self_var = variable
                nodes.append(SetLocal(variable, value, form_span, is_definition=True))
        if steps[-1][0] is not None:
            nodes.append(Const(None, span))
        body = nodes[0] if len(nodes) == 1 else Seq(nodes, span)
        if variables:
            return Let(variables, [], body, recursive=True, span=span)
        return body

    def parse_define(self, form: Pair, span):
        """(define name expr) / (define (name . formals) body…) / (define ((name a) b) …)."""
        items = elements(form, "define", span)
        if len(items) < 2:
            raise SchemeSyntaxError("define: expected a name and a value", span)
        target = items[1]
        if is_identifier(target):
            if len(items) > 3:
                raise SchemeSyntaxError(f"define: too many forms after {base_symbol(target).name}", span)
            value = items[2] if len(items) == 3 else Literal(None)
            return target, value
        if target.__class__ is Pair:
            body = syntax_list(*items[2:], span=span)
            # curried define: (define ((f a) b) body) = (define (f a) (lambda (b) body))
            while target.__class__ is Pair and target.car.__class__ is Pair:
                body = syntax_list(syntax_list(keyword("lambda"), target.cdr, span=span, tail=body), span=span)
                target = target.car
            if target.__class__ is Pair and is_identifier(target.car):
                if body is Nil:
                    raise SchemeSyntaxError(f"define: empty body for {base_symbol(target.car).name}", span)
                return target.car, _NamedLambda(base_symbol(target.car).name, target.cdr, body, span)
        raise SchemeSyntaxError(f"define: cannot define {write_string(strip(target))}", span)

    # -- syntax definitions ----------------------------------------------------------------------

    def define_syntax(self, form, scope, span, install):
        items = elements(form, "define-syntax", span)
        if len(items) != 3 or not is_identifier(items[1]):
            raise SchemeSyntaxError("define-syntax: expected (define-syntax name (syntax-rules …))", span)
        install(items[1], self.make_transformer(items[2], scope, span, base_symbol(items[1]).name))

    def make_transformer(self, spec, scope, span, name: str):
        binding = self.head_binding(spec, scope)
        if binding.__class__ is Special and binding.name in ("syntax-rules", "er-macro-transformer"):
            items = elements(spec, "syntax-rules", span)
            if binding.name != "syntax-rules":
                raise SchemeSyntaxError(f"{binding.name} is not supported; use syntax-rules", span)
            ellipsis, custom_ellipsis = Symbol("..."), False
            if len(items) >= 2 and is_identifier(items[1]):
                ellipsis, custom_ellipsis = items[1], True
                items = items[1:]
            elif self.resolve(ellipsis, scope).__class__ is Variable:
                # `...` bound as a variable where the macro is defined is that variable, not an
                # ellipsis (as in chibi and Larceny)
                ellipsis = None
            if len(items) < 2 or (items[1] is not Nil and items[1].__class__ is not Pair):
                raise SchemeSyntaxError("syntax-rules: expected a list of literals", span)
            literals = elements(items[1], "syntax-rules literals", span)
            rules = []
            for rule in items[2:]:
                parts = elements(rule, "syntax-rules rule", span) if rule.__class__ is Pair else []
                if len(parts) != 2 or parts[0].__class__ is not Pair:
                    raise SchemeSyntaxError(f"{name}: each rule must be (pattern template)", span_of(rule, span))
                rules.append((parts[0].cdr, parts[1]))
            # at the top level, the environment itself: a macro exported by a library or the
            # prelude means its names there, wherever it is used
            return Macro(name, ellipsis, literals, rules, scope if scope is not None else self.env, span,
                         custom_ellipsis)
        if binding.__class__ is Macro and spec.__class__ is not Pair:
            return binding
        if is_identifier(spec):
            target = self.resolve(spec, scope)
            if target.__class__ in (Macro, Special):
                return target
        raise SchemeSyntaxError(f"define-syntax: {name}: expected a syntax-rules transformer", span)

    # -- top level -------------------------------------------------------------------------------

    def expand_toplevel(self, form, span) -> Node:
        while True:
            if self.tick is not None:
                self.tick()
            binding = self.head_binding(form, None)
            span = span_of(form, span)
            if binding.__class__ is Macro:
                form = binding.transform(form, span, self, None)
                continue
            if binding.__class__ is not Special:
                return self.expand(form, None, span)
            name = binding.name
            if name == "begin":
                forms = elements(form.cdr, "begin", span)
                if not forms:
                    return Const(None, span)
                nodes = [self.expand_toplevel(f, span_of(f, span)) for f in forms]
                return nodes[0] if len(nodes) == 1 else Seq(nodes, span)
            if name == "define":
                target, value_form = self.parse_define(form, span)
                symbol = base_symbol(target)
                existing = self.env.bindings.get(symbol)
                if existing.__class__ is Special and not self.env.closed:
                    raise SchemeSyntaxError(f"define: cannot redefine the syntax keyword {symbol.name}", span)
                global_name = self.env.define_variable(symbol)
                self.on_global_definition(global_name)
                value = self.expand(value_form, None, span)
                if isinstance(value, Lambda):
                    value.name = value.name or symbol.name
                    value.self_global = global_name
                return SetGlobal(global_name, value, span, is_definition=True)
            if name == "define-syntax":
                self.define_syntax(form, None, span,
                                   lambda ident, macro: self.env.bindings.__setitem__(base_symbol(ident), macro))
                return Const(None, span)
            if binding.rewrites:
                form = binding.handler(self, form, None, span)
                continue
            return binding.handler(self, form, None, span)


# ---------------------------------------------------------------------------------------------
# The special forms every other form reduces to.

@special("quote", signature="(quote datum)",
         doc="datum itself, not evaluated; 'datum is short for it: '(1 2) is a list of two numbers, "
             "'x a symbol.")
def _quote(ex: Expander, form, scope, span):
    items = elements(form, "quote", span)
    if len(items) != 2:
        raise SchemeSyntaxError("quote: expected exactly one datum", span)
    return Const(strip(items[1]), span)


def unsupported_number(number: UnsupportedNumber, span) -> Node:
    """Code that fails when run, not when read: the literal may sit in code that never runs.
    Quoted, it stays a datum that writes as it was read (test suites quote the expressions
    they report), which no numeric procedure accepts."""
    return Call(Const(_fail_unsupported_number, span), [Const(number.text, span)], span)


def _fail_unsupported_number(text):
    fail(f"complex numbers are not supported: {text}")


@special("if", signature="(if test consequent [alternative])",
         doc="Evaluate test; unless it is #f, evaluate consequent, else alternative (nothing when "
             "there is none). Under a derivative the test sees the primal, so the branch is the one the "
             "number takes.")
def _if(ex: Expander, form, scope, span):
    items = elements(form, "if", span)
    if len(items) not in (3, 4):
        raise SchemeSyntaxError("if: expected (if test consequent [alternative])", span)
    otherwise = ex.expand(items[3], scope, span_of(items[3], span)) if len(items) == 4 else Const(None, span)
    return If(ex.expand(items[1], scope, span_of(items[1], span)),
              ex.expand(items[2], scope, span_of(items[2], span)), otherwise, span)


@special("lambda", signature="(lambda formals body …)",
         doc="A procedure. formals is (x y) for fixed parameters, (x . rest) for a rest list too, or "
             "one name for all the arguments as a list. A string first in a body with more forms after it "
             "is the procedure's documentation, which ,doc shows.")
def _lambda(ex: Expander, form, scope, span):
    items = elements(form, "lambda", span)
    if len(items) < 3:
        raise SchemeSyntaxError("lambda: expected (lambda formals body …)", span)
    return ex.make_lambda(items[1], items[2:], scope, span)


@special("set!", signature="(set! variable expr)",
         doc="Assign the value of expr to the variable, which must be bound already.")
def _set(ex: Expander, form, scope, span):
    items = elements(form, "set!", span)
    if len(items) != 3 or not is_identifier(items[1]):
        raise SchemeSyntaxError("set!: expected (set! variable value)", span)
    binding = ex.resolve(items[1], scope)
    value = ex.expand(items[2], scope, span)
    if binding.__class__ is Variable:
        binding.assigned = True
        if scope is None or binding.owner is not scope.owner:
            binding.captured = True
        return SetLocal(binding, value, span)
    if binding.__class__ is Symbol:
        return SetGlobal(binding.name, value, span)
    raise SchemeSyntaxError(f"set!: cannot assign the syntax keyword {base_symbol(items[1]).name}", span)


@special("begin", signature="(begin form …)",
         doc="Evaluate the forms in order and return the value of the last; at the top level or in a "
             "body, definitions inside it are definitions of the level it is at.")
def _begin(ex: Expander, form, scope, span):
    return ex.expand_sequence(elements(form.cdr, "begin", span), scope, span)


@special("define", definition=True, signature="(define name expr) (define (name . formals) body …)",
         doc="Bind name to the value of expr, or to a procedure (define (f x) body …), at the top "
             "level or at the start of a body. A string first in a procedure's body, before more forms, "
             "documents it: (define (f x) \"What f does.\" body) shows in ,doc f and "
             "procedure-documentation.")
def _define(ex, form, scope, span):  # handled by Expander.expand_body / expand_toplevel
    raise AssertionError("define reached the generic dispatcher")


@special("define-syntax", definition=True, signature="(define-syntax keyword (syntax-rules (literal …) (pattern template) …))",
         doc="Define keyword as a macro: a use of it is rewritten by the first rule whose pattern "
             "matches, hygienically.")
def _define_syntax(ex, form, scope, span):
    raise AssertionError("define-syntax reached the generic dispatcher")


@special("syntax-rules", signature="(syntax-rules (literal …) (pattern template) …)",
         doc="A hygienic macro transformer, for define-syntax, let-syntax and letrec-syntax: each "
             "pattern is matched against the use (… repeats, _ matches anything, literals match "
             "themselves) and the template of the first that matches replaces it.")
def _syntax_rules(ex, form, scope, span):
    raise SchemeSyntaxError("syntax-rules: allowed only in define-syntax, let-syntax or letrec-syntax", span)


@special("er-macro-transformer", signature="(er-macro-transformer proc)",
         doc="Not supported: an explicit-renaming macro is an error that says to use syntax-rules.")
def _er(ex, form, scope, span):
    raise SchemeSyntaxError("er-macro-transformer is not supported; use syntax-rules", span)


@special("syntax-error", signature="(syntax-error message obj …)",
         doc="For a macro's template: an error with message and the objs, raised when the program is "
             "expanded, at the macro's use.")
def _syntax_error(ex, form, scope, span):
    """R7RS 4.3.3: a macro reports misuse by expanding into this; the error is raised while the
    program is expanded, at the macro's use."""
    items = elements(form, "syntax-error", span)
    if len(items) < 2 or not isinstance(items[1], str):
        raise SchemeSyntaxError("syntax-error: expected (syntax-error \"message\" irritant …)", span)
    irritants = "".join(" " + write_string(strip(item)) for item in items[2:])
    raise SchemeSyntaxError(str(items[1]) + irritants, span)


def _let_syntax(ex: Expander, form, scope, span, recursive: bool):
    items = elements(form, "let-syntax", span)
    if len(items) < 3:
        raise SchemeSyntaxError("let-syntax: expected (let-syntax ((name transformer) …) body …)", span)
    inner = Scope(scope, scope.owner if scope is not None else None)
    for binding in elements(items[1], "let-syntax bindings", span):
        parts = elements(binding, "let-syntax binding", span)
        if len(parts) != 2 or not is_identifier(parts[0]):
            raise SchemeSyntaxError("let-syntax: each binding must be (name transformer)", span)
        inner.bindings[parts[0]] = ex.make_transformer(parts[1], inner if recursive else scope, span,
                                                       base_symbol(parts[0]).name)
    return ex.expand_body(items[2:], inner, span, "let-syntax")


@special("let-syntax", signature="(let-syntax ((keyword transformer) …) body …)",
         doc="Macros visible in body only; the transformers cannot see one another.")
def _let_syntax_form(ex, form, scope, span):
    return _let_syntax(ex, form, scope, span, recursive=False)


@special("letrec-syntax", signature="(letrec-syntax ((keyword transformer) …) body …)",
         doc="Macros visible in body only, which may use one another and themselves.")
def _letrec_syntax_form(ex, form, scope, span):
    return _let_syntax(ex, form, scope, span, recursive=True)

