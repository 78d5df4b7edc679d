"""Derived forms: each reduces to core forms (core.py) or is rewritten into simpler syntax.

A rewrite refers to the special forms through `keyword(…)` and to run-time helpers through
`Literal(…)`, so what it means does not change when a user rebinds `let`, `list` or `car`.
"""

from __future__ import annotations

from pathlib import Path

from ..lang.datum import Nil, Pair, Symbol, gensym, list_to_python, make_list, make_pair
from ..lang.printer import write_string
from ..lang.reader import ReadError, read_all
from ..ad.operators import make_differentiable
from . import files, runtime
from .core import Call, Const, If, Lambda, Let, LocalRef, Seq, Variable
from .errors import SchemeSyntaxError, fail
from .libraries import library_name
from .expand import (Expander, Literal, Scope, elements, keyword, span_of, special,
                     syntax_list)
from .primitives.equivalence import eqv
from .syntax_rules import base_symbol, is_identifier, strip


def is_keyword(value, name: str, ex: Expander | None = None, scope=None) -> bool:
    """Whether ``value`` is the auxiliary keyword ``name`` (`else`, `=>`): by binding, as
    R7RS matches literals, so not where a local variable or macro of that name shadows it."""
    if not is_identifier(value) or base_symbol(value).name != name:
        return False
    return ex is None or ex.resolve(value, scope) is Symbol(name)


def _body(ex: Expander, forms, scope, span, what):
    return ex.expand_body(forms, scope, span, what)


def _fresh(scope, name="t") -> Variable:
    return Variable(name, scope.owner if scope is not None else None)


def _bindings(form, what, span) -> list[tuple]:
    result = []
    for binding in elements(form, f"{what} bindings", span):
        parts = elements(binding, f"{what} binding", span_of(binding, span)) if binding.__class__ is Pair else []
        if len(parts) not in (1, 2) or not is_identifier(parts[0]):
            raise SchemeSyntaxError(f"{what}: each binding must be (name value)", span_of(binding, span))
        result.append((parts[0], parts[1] if len(parts) == 2 else Literal(None)))
    return result


def _name_lambda(node, name: str):
    if isinstance(node, Lambda) and node.name is None:
        node.name = name


# -- binding forms ------------------------------------------------------------------------------

@special("let", signature="(let ((name expr) …) body …) (let loop ((name expr) …) body …)",
         doc="Bind the names to the values of the exprs (evaluated first, outside the bindings) for "
             "body. Named let: loop is bound in body to a procedure of the names, so (loop new-value …) "
             "repeats; in tail position it runs in constant space.")
def _let(ex: Expander, form, scope, span):
    items = elements(form, "let", span)
    if len(items) < 3:
        raise SchemeSyntaxError("let: expected (let ((name value) …) body …)", span)
    if is_identifier(items[1]):
        return _named_let(ex, items, scope, span)
    bindings = _bindings(items[1], "let", span)
    inits = [ex.expand(value, scope, span_of(value, span)) for _, value in bindings]
    inner = Scope(scope, scope.owner if scope is not None else None)
    variables = [inner.bind(name, span) for name, _ in bindings]
    for variable, init in zip(variables, inits):
        _name_lambda(init, variable.name)
    body = _body(ex, items[2:], inner, span, "let")
    return Let(variables, inits, body, span=span) if variables else body


def _named_let(ex: Expander, items, scope, span):
    if len(items) < 4:
        raise SchemeSyntaxError("let: expected (let name ((var init) …) body …)", span)
    bindings = _bindings(items[2], "let", span)
    inits = [ex.expand(value, scope, span_of(value, span)) for _, value in bindings]
    owner = scope.owner if scope is not None else None
    loop_scope = Scope(scope, owner)
    loop = loop_scope.bind(items[1], span)
    formals = syntax_list(*[name for name, _ in bindings])
    procedure = ex.make_lambda(formals, items[3:], loop_scope, span, base_symbol(items[1]).name)
    procedure.self_var = loop
    return Let([loop], [procedure], Call(LocalRef(loop, span), inits, span), recursive=True, span=span)


@special("let*", signature="(let* ((name expr) …) body …)",
         doc="As let, but each binding is made in turn and sees the ones before it.")
def _let_star(ex: Expander, form, scope, span):
    items = elements(form, "let*", span)
    if len(items) < 3:
        raise SchemeSyntaxError("let*: expected (let* ((name value) …) body …)", span)
    bindings = _bindings(items[1], "let*", span)
    if len(bindings) <= 1:
        return _let(ex, syntax_list(keyword("let"), items[1], *items[2:], span=span), scope, span)
    inner = syntax_list(keyword("let*"), syntax_list(*[syntax_list(n, v) for n, v in bindings[1:]]),
                        *items[2:], span=span)
    first = syntax_list(syntax_list(*bindings[0]))
    return _let(ex, syntax_list(keyword("let"), first, inner, span=span), scope, span)


def _letrec(ex: Expander, form, scope, span, what):
    items = elements(form, what, span)
    if len(items) < 3:
        raise SchemeSyntaxError(f"{what}: expected ({what} ((name value) …) body …)", span)
    bindings = _bindings(items[1], what, span)
    inner = Scope(scope, scope.owner if scope is not None else None)
    variables = [inner.bind(name, span) for name, _ in bindings]
    inits = []
    for variable, (_, value) in zip(variables, bindings):
        init = ex.expand(value, inner, span_of(value, span))
        if isinstance(init, Lambda):
            _name_lambda(init, variable.name)
            init.self_var = variable
        inits.append(init)
    body = _body(ex, items[2:], inner, span, what)
    return Let(variables, inits, body, recursive=True, span=span)


@special("letrec", signature="(letrec ((name expr) …) body …)",
         doc="Bind the names so that the exprs (typically lambdas) can refer to all of them, for "
             "mutually recursive procedures.")
def _letrec_form(ex, form, scope, span):
    return _letrec(ex, form, scope, span, "letrec")


@special("letrec*", signature="(letrec* ((name expr) …) body …)",
         doc="As letrec, the exprs evaluated in order, each able to use the values of the ones before "
             "it.")
def _letrec_star_form(ex, form, scope, span):
    return _letrec(ex, form, scope, span, "letrec*")


# -- conditionals -------------------------------------------------------------------------------

@special("and", signature="(and test …)",
         doc="The tests in order until one is #f: #f then, else the value of the last (#t for none).")
def _and(ex: Expander, form, scope, span):
    items = elements(form.cdr, "and", span)
    if not items:
        return Const(True, span)
    result = ex.expand(items[-1], scope, span_of(items[-1], span))
    for item in reversed(items[:-1]):
        result = If(ex.expand(item, scope, span_of(item, span)), result, Const(False, span), span)
    return result


@special("or", signature="(or test …)",
         doc="The tests in order until one is true: its value, else #f.")
def _or(ex: Expander, form, scope, span):
    items = elements(form.cdr, "or", span)
    if not items:
        return Const(False, span)
    result = ex.expand(items[-1], scope, span_of(items[-1], span))
    for item in reversed(items[:-1]):
        temp = _fresh(scope)
        result = Let([temp], [ex.expand(item, scope, span_of(item, span))],
                     If(LocalRef(temp, span), LocalRef(temp, span), result, span), span=span)
    return result


@special("when", signature="(when test body …)",
         doc="Evaluate the body when test is true.")
def _when(ex: Expander, form, scope, span):
    items = elements(form, "when", span)
    if len(items) < 3:
        raise SchemeSyntaxError("when: expected (when test body …)", span)
    return If(ex.expand(items[1], scope, span), ex.expand_sequence(items[2:], scope, span),
              Const(None, span), span)


@special("unless", signature="(unless test body …)",
         doc="Evaluate the body when test is #f.")
def _unless(ex: Expander, form, scope, span):
    items = elements(form, "unless", span)
    if len(items) < 3:
        raise SchemeSyntaxError("unless: expected (unless test body …)", span)
    return If(ex.expand(items[1], scope, span), Const(None, span),
              ex.expand_sequence(items[2:], scope, span), span)


@special("cond", signature="(cond (test body …) … [(else body …)])",
         doc="Evaluate the body of the first clause whose test is true; (test => proc) calls proc with "
             "the test's value; else catches all.")
def _cond(ex: Expander, form, scope, span):
    clauses = elements(form.cdr, "cond", span)
    result = Const(None, span)
    for index in range(len(clauses) - 1, -1, -1):
        clause = clauses[index]
        clause_span = span_of(clause, span)
        parts = elements(clause, "cond clause", clause_span) if clause.__class__ is Pair else None
        if not parts:
            raise SchemeSyntaxError("cond: each clause must be (test body …)", clause_span)
        if is_keyword(parts[0], "else", ex, scope):
            if index != len(clauses) - 1:
                raise SchemeSyntaxError("cond: else must be the last clause", clause_span)
            if len(parts) < 2:
                raise SchemeSyntaxError("cond: else clause needs a body", clause_span)
            result = ex.expand_sequence(parts[1:], scope, clause_span)
            continue
        test = ex.expand(parts[0], scope, clause_span)
        if len(parts) >= 2 and is_keyword(parts[1], "=>", ex, scope):
            if len(parts) != 3:
                raise SchemeSyntaxError("cond: expected (test => receiver)", clause_span)
            temp = _fresh(scope)
            receiver = ex.expand(parts[2], scope, clause_span)
            result = Let([temp], [test], If(LocalRef(temp), Call(receiver, [LocalRef(temp)], clause_span),
                                             result, clause_span), span=clause_span)
        elif len(parts) == 1:
            temp = _fresh(scope)
            result = Let([temp], [test], If(LocalRef(temp), LocalRef(temp), result, clause_span),
                         span=clause_span)
        else:
            result = If(test, ex.expand_sequence(parts[1:], scope, clause_span), result, clause_span)
    return result


def case_matches(key, datums: tuple) -> bool:
    for datum in datums:
        if eqv(key, datum):
            return True
    return False


@special("case", signature="(case key ((datum …) body …) … [(else body …)])",
         doc="Evaluate key and then the body of the first clause that lists a datum eqv? to it (a "
             "number compared under its perturbations); (else => proc) and (… => proc) call proc with the "
             "key.")
def _case(ex: Expander, form, scope, span):
    items = elements(form, "case", span)
    if len(items) < 2:
        raise SchemeSyntaxError("case: expected (case key clause …)", span)
    key = _fresh(scope, "key")
    clauses = items[2:]
    result = Const(None, span)
    for index in range(len(clauses) - 1, -1, -1):
        clause = clauses[index]
        clause_span = span_of(clause, span)
        parts = elements(clause, "case clause", clause_span) if clause.__class__ is Pair else None
        if not parts or len(parts) < 2:
            raise SchemeSyntaxError("case: each clause must be ((datum …) body …)", clause_span)
        if is_keyword(parts[1], "=>", ex, scope):
            if len(parts) != 3:
                raise SchemeSyntaxError("case: expected ((datum …) => receiver)", clause_span)
            body = Call(ex.expand(parts[2], scope, clause_span), [LocalRef(key)], clause_span)
        else:
            body = ex.expand_sequence(parts[1:], scope, clause_span)
        if is_keyword(parts[0], "else", ex, scope):
            if index != len(clauses) - 1:
                raise SchemeSyntaxError("case: else must be the last clause", clause_span)
            result = body
            continue
        if parts[0] is not Nil and parts[0].__class__ is not Pair:
            raise SchemeSyntaxError("case: a clause starts with a list of datums or else, got "
                                    + _write(strip(parts[0])), clause_span)
        datums = tuple(strip(d) for d in elements(parts[0], "case datums", clause_span))
        test = Call(Const(case_matches), [LocalRef(key), Const(datums)], clause_span)
        result = If(test, body, result, clause_span)
    return Let([key], [ex.expand(items[1], scope, span)], result, span=span)


@special("do", signature="(do ((name init step) …) (test result …) body …)",
         doc="A loop: bind the names to the inits, then until test is true run body and rebind each "
             "name to its step; then the value of the results.")
def _do(ex: Expander, form, scope, span):
    items = elements(form, "do", span)
    if len(items) < 3:
        raise SchemeSyntaxError("do: expected (do ((var init step) …) (test result …) body …)", span)
    specs = []
    for spec in elements(items[1], "do bindings", span):
        parts = elements(spec, "do binding", span) if spec.__class__ is Pair else []
        if len(parts) not in (2, 3) or not is_identifier(parts[0]):
            raise SchemeSyntaxError("do: each binding must be (var init [step])", span)
        specs.append((parts[0], parts[1], parts[2] if len(parts) == 3 else parts[0]))
    exit_clause = elements(items[2], "do test", span) if items[2].__class__ is Pair else None
    if not exit_clause:
        raise SchemeSyntaxError("do: expected (test result …) after the bindings", span)
    inits = [ex.expand(init, scope, span) for _, init, _ in specs]
    owner = scope.owner if scope is not None else None
    loop = Variable("do-loop", owner)
    procedure = Lambda(span, "do-loop")
    inner = Scope(scope, procedure)
    procedure.params = [inner.bind(name, span) for name, _, _ in specs]
    test = ex.expand(exit_clause[0], inner, span)
    result = ex.expand_sequence(exit_clause[1:], inner, span)
    commands = [ex.expand(command, inner, span_of(command, span)) for command in items[3:]]
    again = Call(LocalRef(loop, span), [ex.expand(step, inner, span) for _, _, step in specs], span)
    procedure.body = If(test, result, Seq(commands + [again], span) if commands else again, span)
    procedure.self_var = loop
    return Let([loop], [procedure], Call(LocalRef(loop, span), inits, span), recursive=True, span=span)


# -- quasiquote ---------------------------------------------------------------------------------

def _qq_append(front, back):
    items = list_to_python(front)
    if items is None:
        fail("unquote-splicing: expected a proper list, got " + _write(front))
    return make_list(items, back)


def _qq_cons(a, b):
    return make_pair(a, b)


def _qq_vector(items):
    out = list_to_python(items)
    if out is None:
        fail("quasiquote: a vector's elements must form a proper list")
    return out


def _write(value):
    from ..lang.printer import write_string
    return write_string(value)


@special("quasiquote", signature="(quasiquote template)",
         doc="The template as data (`template is short for it), except the parts marked ,expr "
             "(unquote: its value) and ,@expr (unquote-splicing: the elements of its list value): "
             "`(1 ,(+ 1 1) ,@(list 3 4)) is (1 2 3 4).")
def _quasiquote(ex: Expander, form, scope, span):
    items = elements(form, "quasiquote", span)
    if len(items) != 2:
        raise SchemeSyntaxError("quasiquote: expected exactly one template", span)
    node, _ = _qq(ex, items[1], 1, scope, span)
    return node


def _qq_form(value, name):
    return (value.__class__ is Pair and is_keyword(value.car, name) and value.cdr.__class__ is Pair
            and value.cdr.cdr is Nil)


def _qq_operator(value, name):
    """The operands of ``(name operand …)`` when ``value`` is that form, else None: R6RS lets
    unquote and unquote-splicing take any number inside a list, `(a (unquote b c))` = (a b c)."""
    if value.__class__ is Pair and is_keyword(value.car, name):
        operands = list_to_python(value.cdr)
        if operands is not None:
            return operands
    return None


def _qq(ex: Expander, template, depth, scope, span):
    """(node, is_constant) for one quasiquote template at nesting ``depth``."""
    for name, change in (("unquote", -1), ("quasiquote", 1)):
        operands = _qq_operator(template, name)
        if operands is None:
            continue
        if depth + change > 0:
            inner, constant = _qq(ex, template.cdr, depth + change, scope, span)
            if constant:
                return Const(strip(template), span), True
            return Call(Const(_qq_cons), [Const(Symbol(name)), inner], span), False
        if len(operands) != 1:
            raise SchemeSyntaxError(f"unquote: expected one expression here, got {len(operands)} "
                                    "(several are allowed only inside a list)", span_of(template, span))
        return ex.expand(operands[0], scope, span_of(template, span)), False
    if depth == 1 and _qq_operator(template, "unquote-splicing") is not None:
        raise SchemeSyntaxError("unquote-splicing: allowed only inside a list or vector of a "
                                "quasiquote template", span_of(template, span))
    if template.__class__ is Pair:
        parts = []          # (kind, node, constant) with kind "item" or "splice"
        evaluated = False   # an (unquote) of no operands leaves no part, yet is not constant
        node = template
        tail = Nil
        while node.__class__ is Pair:
            if _qq_form(node, "unquote"):   # `(a . ,b)` reads as (a unquote b)
                tail = node
                break
            element = node.car
            unquoted = _qq_operator(element, "unquote") if depth == 1 else None
            spliced = _qq_operator(element, "unquote-splicing")
            if unquoted is not None:
                parts += [("item", ex.expand(e, scope, span_of(element, span)), False) for e in unquoted]
                evaluated = True
            elif spliced is not None and depth == 1:
                parts += [("splice", ex.expand(e, scope, span_of(element, span)), False) for e in spliced]
                evaluated = True
            elif spliced is not None:
                inner, constant = _qq(ex, element.cdr, depth - 1, scope, span)
                parts.append(("item", Const(strip(element), span), True) if constant else
                             ("item", Call(Const(_qq_cons), [Const(Symbol("unquote-splicing")), inner], span), False))
            else:
                parts.append(("item",) + _qq(ex, element, depth, scope, span))
            node = node.cdr
        else:
            tail = node
        tail_node, tail_constant = _qq(ex, tail, depth, scope, span)
        if not evaluated and tail_constant and all(constant for _, _, constant in parts):
            return Const(strip(template), span), True
        result = tail_node
        for kind, part, _ in reversed(parts):
            helper = _qq_append if kind == "splice" else _qq_cons
            result = Call(Const(helper), [part, result], span)
        return result, False
    if template.__class__ is list:
        inner, constant = _qq(ex, make_list(template), depth, scope, span)
        if constant:
            return Const(strip(template), span), True
        return Call(Const(_qq_vector), [inner], span), False
    return Const(strip(template), span), True


# -- procedures with several arities, multiple values -------------------------------------------

@special("case-lambda", signature="(case-lambda (formals body …) …)",
         doc="A procedure that runs the first clause whose formals accept the number of arguments "
             "given.")
def _case_lambda(ex: Expander, form, scope, span):
    clauses = elements(form.cdr, "case-lambda", span)
    arities, procedures = [], []
    for clause in clauses:
        parts = elements(clause, "case-lambda clause", span) if clause.__class__ is Pair else []
        if len(parts) < 2:
            raise SchemeSyntaxError("case-lambda: each clause must be (formals body …)", span)
        required, rest = ex.parse_formals(parts[0], span)
        arities.append((len(required), rest is not None))
        procedures.append(ex.make_lambda(parts[0], parts[1:], scope, span, "case-lambda"))
    return Call(Const(runtime.make_case_lambda), [Const(tuple(arities))] + procedures, span)


def values_checked(producer, required: int, has_rest: bool, who: str):
    values = runtime.values_of(runtime.apply_procedure(producer, ()))
    if len(values) < required or (not has_rest and len(values) != required):
        fail(f"{who}: expected {required}{' or more' if has_rest else ''} value"
             f"{'s' if required != 1 else ''}, got {len(values)}")
    return values


def _nth(values, index):
    return values[index]


def _nth_rest(values, index):
    return make_list(values[index:])


def _values_bindings(formals, temp, span):
    """(identifier, expression) pairs that take ``formals`` apart from the tuple ``temp``."""
    pairs = []
    node, index = formals, 0
    while node.__class__ is Pair:
        pairs.append((node.car, syntax_list(Literal(_nth), temp, index, span=span)))
        node, index = node.cdr, index + 1
    if node is not Nil:
        pairs.append((node, syntax_list(Literal(_nth_rest), temp, index, span=span)))
    return pairs, index, node is not Nil


def _producer(formals, expression, temp, span, who):
    required, has_rest = 0, False
    node = formals
    while node.__class__ is Pair:
        required, node = required + 1, node.cdr
    has_rest = node is not Nil
    thunk = syntax_list(keyword("lambda"), Nil, expression, span=span)
    return syntax_list(Literal(values_checked), thunk, required, has_rest, who, span=span)


@special("define-values", definition=True, signature="(define-values formals expr)",
         doc="Define the names of formals to the multiple values of expr: (define-values (q r) (floor/ "
             "7 2)).")
def _define_values(ex: Expander, form, scope, span):
    items = elements(form, "define-values", span)
    if len(items) != 3:
        raise SchemeSyntaxError("define-values: expected (define-values formals expression)", span)
    temp = gensym("values")
    definitions = [syntax_list(keyword("define"), temp, _producer(items[1], items[2], temp, span, "define-values"), span=span)]
    pairs, _, _ = _values_bindings(items[1], temp, span)
    definitions += [syntax_list(keyword("define"), name, value, span=span) for name, value in pairs]
    return syntax_list(keyword("begin"), *definitions, span=span)


def _let_values(ex: Expander, form, scope, span, sequential: bool):
    what = "let*-values" if sequential else "let-values"
    items = elements(form, what, span)
    if len(items) < 3:
        raise SchemeSyntaxError(f"{what}: expected ({what} ((formals expression) …) body …)", span)
    clauses = []
    for binding in elements(items[1], f"{what} bindings", span):
        parts = elements(binding, f"{what} binding", span) if binding.__class__ is Pair else []
        if len(parts) != 2:
            raise SchemeSyntaxError(f"{what}: each binding must be (formals expression)", span)
        clauses.append(parts)
    if sequential and len(clauses) > 1:
        inner = syntax_list(keyword("let*-values"), syntax_list(*[syntax_list(*c) for c in clauses[1:]]),
                            *items[2:], span=span)
        first = syntax_list(keyword("let-values"), syntax_list(syntax_list(*clauses[0])), inner, span=span)
        return ex.expand(first, scope, span)
    temps = [gensym("values") for _ in clauses]
    outer = [syntax_list(temp, _producer(formals, expression, temp, span, what))
             for temp, (formals, expression) in zip(temps, clauses)]
    inner_bindings = []
    for temp, (formals, _) in zip(temps, clauses):
        pairs, _, _ = _values_bindings(formals, temp, span)
        inner_bindings += [syntax_list(name, value) for name, value in pairs]
    inner = syntax_list(keyword("let"), syntax_list(*inner_bindings), *items[2:], span=span)
    return ex.expand(syntax_list(keyword("let"), syntax_list(*outer), inner, span=span), scope, span)


@special("let-values", signature="(let-values ((formals expr) …) body …)",
         doc="Bind the names of each formals to the multiple values of its expr, for body.")
def _let_values_form(ex, form, scope, span):
    return _let_values(ex, form, scope, span, sequential=False)


@special("let*-values", signature="(let*-values ((formals expr) …) body …)",
         doc="As let-values, each binding made in turn and seeing the ones before it.")
def _let_star_values_form(ex, form, scope, span):
    return _let_values(ex, form, scope, span, sequential=True)


@special("receive", signature="(receive formals expr body …)",
         doc="SRFI 8: bind formals to the multiple values of expr for body, (receive (q r) (floor/ 7 "
             "2) (list q r)).")
def _receive(ex, form, scope, span):
    items = elements(form, "receive", span)
    if len(items) < 4:
        raise SchemeSyntaxError("receive: expected (receive formals expression body …)", span)
    rewritten = syntax_list(keyword("let-values"), syntax_list(syntax_list(items[1], items[2])),
                            *items[3:], span=span)
    return ex.expand(rewritten, scope, span)


# -- dynamic state, promises, records, exceptions -----------------------------------------------

def _tuple_of(*values):
    return values


def _thunk(body, span):
    return syntax_list(keyword("lambda"), Nil, *body, span=span)


@special("parameterize", signature="(parameterize ((parameter value) …) body …)",
         doc="Give each parameter object its value (through its converter) while body runs, and the "
             "old one back after, also when body is left by an error or a continuation.")
def _parameterize(ex: Expander, form, scope, span):
    items = elements(form, "parameterize", span)
    if len(items) < 3:
        raise SchemeSyntaxError("parameterize: expected (parameterize ((param value) …) body …)", span)
    pairs = []
    for binding in elements(items[1], "parameterize bindings", span):
        parts = elements(binding, "parameterize binding", span) if binding.__class__ is Pair else []
        if len(parts) != 2:
            raise SchemeSyntaxError("parameterize: each binding must be (parameter value)", span)
        pairs.append(parts)
    rewritten = syntax_list(Literal(runtime.parameterize),
                            syntax_list(Literal(_tuple_of), *[p for p, _ in pairs]),
                            syntax_list(Literal(_tuple_of), *[v for _, v in pairs]),
                            _thunk(items[2:], span), span=span)
    return ex.expand(rewritten, scope, span)


@special("delay", signature="(delay expr)",
         doc="A promise to evaluate expr when force first asks for it; the value is remembered.")
def _delay(ex: Expander, form, scope, span):
    items = elements(form, "delay", span)
    if len(items) != 2:
        raise SchemeSyntaxError("delay: expected (delay expression)", span)
    return ex.expand(syntax_list(Literal(runtime.eager_delay), _thunk(items[1:], span), span=span), scope, span)


@special("delay-force", signature="(delay-force expr)",
         doc="A promise whose value is that of the promise expr gives, forced in constant space: for "
             "lazy iterative algorithms (R7RS).")
def _delay_force(ex: Expander, form, scope, span):
    items = elements(form, "delay-force", span)
    if len(items) != 2:
        raise SchemeSyntaxError("delay-force: expected (delay-force expression)", span)
    return ex.expand(syntax_list(Literal(runtime.lazy_promise), _thunk(items[1:], span), span=span), scope, span)



@special("cons-stream", signature="(cons-stream head tail)",
         doc="A stream pair (SICP): (cons head (delay tail)); (force (cdr s)) gives the rest.")
def _cons_stream(ex: Expander, form, scope, span):
    items = elements(form, "cons-stream", span)
    if len(items) != 3:
        raise SchemeSyntaxError("cons-stream: expected (cons-stream head tail)", span)
    return ex.expand(syntax_list(Literal(_qq_cons), items[1], syntax_list(keyword("delay"), items[2]),
                                 span=span), scope, span)


def _make_record_type(name, fields):
    return runtime.RecordType(name, tuple(fields))


@special("define-record-type", definition=True, signature="(define-record-type name (constructor field …) predicate (field accessor [modifier]) …)",
         doc="Define a record type: the constructor makes a record of the given fields, the predicate "
             "recognizes it, each accessor reads a field and each modifier sets it.")
def _define_record_type(ex: Expander, form, scope, span):
    items = elements(form, "define-record-type", span)
    if len(items) < 4:
        raise SchemeSyntaxError("define-record-type: expected (define-record-type name constructor "
                                "predicate field …)", span)
    type_name = items[1]
    if type_name.__class__ is Pair:
        type_name = type_name.car
    if not is_identifier(type_name):
        raise SchemeSyntaxError("define-record-type: the type name must be an identifier", span)
    fields = []
    accessors = []
    for spec in items[4:]:
        parts = elements(spec, "record field", span) if spec.__class__ is Pair else [spec]
        if not parts or not all(is_identifier(p) for p in parts) or len(parts) > 3:
            raise SchemeSyntaxError("define-record-type: each field must be (name [accessor [modifier]])", span)
        fields.append(base_symbol(parts[0]))
        accessors.append(parts)
    pretty = base_symbol(type_name).name
    if pretty.startswith("<") and pretty.endswith(">") and len(pretty) > 2:
        pretty = pretty[1:-1]
    quote = keyword("quote")
    # The procedures refer to the type through a name of their own: the type's name may be
    # defined again by the very form, as in (define-record-type car car car).
    record_type = gensym("record type")
    definitions = [syntax_list(keyword("define"), record_type,
                               syntax_list(Literal(_make_record_type), pretty,
                                           syntax_list(quote, make_list(fields))), span=span),
                   syntax_list(keyword("define"), type_name, record_type, span=span)]
    constructor = items[2]
    if constructor.__class__ is Pair:
        names = elements(constructor, "record constructor", span)
        if not all(is_identifier(n) for n in names):
            raise SchemeSyntaxError("define-record-type: bad constructor spec", span)
        field_names = [base_symbol(n) for n in names[1:]]
        for name in field_names:
            if name not in fields:
                raise SchemeSyntaxError(f"define-record-type: constructor field {name.name} is not a field", span)
        definitions.append(syntax_list(keyword("define"), names[0],
                                       syntax_list(Literal(runtime.record_constructor), record_type,
                                                   syntax_list(quote, make_list(field_names))), span=span))
    elif is_identifier(constructor):
        definitions.append(syntax_list(keyword("define"), constructor,
                                       syntax_list(Literal(runtime.record_constructor), record_type,
                                                   syntax_list(quote, make_list(fields))), span=span))
    elif constructor is not False:
        raise SchemeSyntaxError("define-record-type: bad constructor spec", span)
    if is_identifier(items[3]):
        definitions.append(syntax_list(keyword("define"), items[3],
                                       syntax_list(Literal(runtime.record_predicate), record_type), span=span))
    for parts in accessors:
        field = syntax_list(quote, base_symbol(parts[0]))
        if len(parts) >= 2:
            definitions.append(syntax_list(keyword("define"), parts[1], syntax_list(
                Literal(runtime.record_accessor), record_type, field, base_symbol(parts[1]).name), span=span))
        if len(parts) == 3:
            definitions.append(syntax_list(keyword("define"), parts[2], syntax_list(
                Literal(runtime.record_modifier), record_type, field, base_symbol(parts[2]).name), span=span))
    return syntax_list(keyword("begin"), *definitions, span=span)


@special("guard", signature="(guard (var clause …) body …)",
         doc="Evaluate body; if it raises (an error or any raised object), bind var to the condition "
             "and evaluate the first cond clause that applies, or raise it again when none does.")
def _guard(ex: Expander, form, scope, span):
    items = elements(form, "guard", span)
    if len(items) < 3 or items[1].__class__ is not Pair or not is_identifier(items[1].car):
        raise SchemeSyntaxError("guard: expected (guard (variable clause …) body …)", span)
    variable = items[1].car
    clauses = elements(items[1].cdr, "guard clauses", span)
    has_else = bool(clauses) and clauses[-1].__class__ is Pair and is_keyword(clauses[-1].car, "else", ex, scope)
    if not has_else:
        clauses = clauses + [syntax_list(keyword("else"), Literal(runtime.NO_CLAUSE_MATCHED))]
    handler = syntax_list(keyword("lambda"), syntax_list(variable),
                          syntax_list(keyword("cond"), *clauses, span=span), span=span)
    handlers = ex.libraries.interp.handlers if ex.libraries is not None else []
    rewritten = syntax_list(Literal(_guard_runner(handlers)), _thunk(items[2:], span), handler, span=span)
    return ex.expand(rewritten, scope, span)


def _guard_runner(handlers: list):
    """The guard of one interpreter, whose handler stack it marks (raise-continuable must find
    the innermost guard before an outer with-exception-handler's handler)."""
    from .errors import condition_of

    def guard(body, handler):
        return runtime.guard_body(body, handler, condition_of, handlers)
    return guard


# -- custom derivative rules --------------------------------------------------------------------

@special("define-derivative", signature="(define-derivative (name param …) partial …)",
         doc="A custom derivative rule for the procedure name: one partial derivative per parameter, "
             "written in nablisp with the parameters in scope, so that it holds in forward and reverse "
             "mode and under nesting: (define-derivative (f x y) (* 2 x) 1).")
def _define_derivative(ex: Expander, form, scope, span):
    """(define-derivative (name param …) partial …): from now on, name is differentiated with
    one partial per parameter, written in nablisp — in both modes and under nesting."""
    items = elements(form, "define-derivative", span)
    if len(items) < 2 or items[1].__class__ is not Pair or not is_identifier(items[1].car):
        raise SchemeSyntaxError("define-derivative: expected (define-derivative (name param …) partial …)", span)
    name = items[1].car
    params = elements(items[1].cdr, "define-derivative parameters", span)
    partials = items[2:]
    if not all(is_identifier(p) for p in params):
        raise SchemeSyntaxError("define-derivative: parameters must be identifiers", span)
    if len(partials) != len(params):
        raise SchemeSyntaxError(f"define-derivative: {base_symbol(name).name} has {len(params)} "
                                f"parameter{'s' if len(params) != 1 else ''} and needs as many partials, "
                                f"got {len(partials)}", span)
    lambdas = [syntax_list(keyword("lambda"), items[1].cdr, partial, span=span) for partial in partials]
    parameters = tuple(base_symbol(p).name for p in params)
    rewritten = syntax_list(keyword("set!"), name,
                            syntax_list(Literal(_differentiable_maker(ex)), name,
                                        syntax_list(Literal(_tuple_of), *lambdas),
                                        base_symbol(name).name, Literal(parameters), span=span), span=span)
    return ex.expand(rewritten, scope, span)


def _differentiable_maker(ex: Expander):
    handlers = ex.libraries.interp.handlers if ex.libraries is not None else []

    def apply_partial(procedure, args):
        # a partial's error may wait on a tape for a backward pass that never needs it: the
        # program's handlers see it once it is raised, not where it happens
        return runtime.sheltered(handlers, procedure, args)

    def make(function, partials, name, parameters):
        return _make_differentiable(function, partials, name, parameters, apply_partial)
    return make


def _make_differentiable(function, partials, name, parameters, apply_partial):
    runtime.check_procedure("define-derivative", function)
    accepted = runtime.arity(function)
    if accepted is not None:
        required, most = accepted
        count = len(parameters)
        if count < required or (most is not None and count > most):
            takes = (f"{required} or more arguments" if most is None else
                     f"{required} argument{'s' if required != 1 else ''}" if required == most else
                     f"{required} to {most} arguments")
            fail(f"define-derivative: {name} takes {takes}, but the rule has {count} "
                 f"parameter{'s' if count != 1 else ''}")
    return make_differentiable(runtime.apply_procedure, function, partials, name, parameters, apply_partial)


# -- program structure --------------------------------------------------------------------------

@special("import", signature="(import import-set …)",
         doc="Make the bindings of libraries visible: (import (scheme base) (only (nablisp) "
             "gradient)); only, except, prefix and rename select and rename. A program that starts with "
             "import sees nothing else.")
def _import(ex: Expander, form, scope, span):
    if scope is not None:
        raise SchemeSyntaxError("import: allowed only at the top level", span)
    libraries = ex.libraries.import_into(ex.env, elements(form.cdr, "import", span), span)
    waiting = [library for library in libraries if library.state != "ready"]
    if not waiting:
        return Const(None, span)
    return Call(Const(lambda: ex.libraries.instantiate(waiting), span), [], span)


@special("define-library", signature="(define-library (name …) declaration …)",
         doc="Define an R7RS library: export, import, begin, include and cond-expand declarations; "
             "import finds libraries defined so, or in files under the directory of the program.")
def _define_library(ex: Expander, form, scope, span):
    if scope is not None:
        raise SchemeSyntaxError("define-library: allowed only at the top level", span)
    ex.libraries.define_library(ex, form, span)
    return Const(None, span)


FEATURES = {"r7rs", "exact-closed", "exact-complex-free", "ratios", "full-unicode", "nablisp",
            "automatic-differentiation"}


def _feature_holds(ex: Expander, requirement, span) -> bool:
    if is_identifier(requirement):
        return base_symbol(requirement).name in FEATURES or base_symbol(requirement).name == "else"
    parts = elements(requirement, "cond-expand requirement", span) if requirement.__class__ is Pair else []
    if not parts or not is_identifier(parts[0]):
        raise SchemeSyntaxError("cond-expand: bad feature requirement", span)
    head = base_symbol(parts[0]).name
    if head == "and":
        return all(_feature_holds(ex, p, span) for p in parts[1:])
    if head == "or":
        return any(_feature_holds(ex, p, span) for p in parts[1:])
    if head == "not" and len(parts) == 2:
        return not _feature_holds(ex, parts[1], span)
    if head == "library" and len(parts) == 2:
        return ex.libraries.exists(library_name(parts[1], span))
    raise SchemeSyntaxError(f"cond-expand: unknown requirement form {head}", span)


def chosen_clause(ex: Expander, form, span) -> list:
    """The body of the first cond-expand clause whose requirement holds (none: empty)."""
    for clause in elements(form.cdr, "cond-expand", span):
        parts = elements(clause, "cond-expand clause", span) if clause.__class__ is Pair else []
        if not parts:
            raise SchemeSyntaxError("cond-expand: each clause must be (requirement body …)", span)
        if _feature_holds(ex, parts[0], span):
            return parts[1:]
    return []


@special("cond-expand", rewrites=True, signature="(cond-expand (feature-requirement form …) …)",
         doc="The forms of the first clause whose requirement holds: a feature identifier of "
             "(features), (library (name …)), and, or, not, else.")
def _cond_expand(ex: Expander, form, scope, span):
    return syntax_list(keyword("begin"), *chosen_clause(ex, form, span), span=span)


def included_data(form, span, fold_case: bool = False, roots=()) -> list:
    """The forms (datum, span) of the files an include names: relative to the including file,
    or failing that to one of ``roots`` (the library search directories, the script's and the
    current directory), where programs written for Larceny or chibi expect to find them."""
    items = elements(form, "include", span)
    what = base_symbol(form.car).name
    data = []
    base = Path(span.file).parent if span is not None and not span.file.startswith("<") else Path.cwd()
    for name in items[1:]:
        if not isinstance(name, str):
            raise SchemeSyntaxError(f"{what}: expected file names (strings)", span)
        path = base / name
        if not files.is_file(path):
            path = next((root / name for root in roots if files.is_file(root / name)), path)
        try:
            text = files.read_text(path, what)
        except (OSError, ValueError) as error:      # ValueError: not UTF-8, or a NUL in the name
            reason = getattr(error, "strerror", None) or ("not UTF-8 text" if isinstance(error, UnicodeDecodeError)
                                                          else str(error))
            raise SchemeSyntaxError(f"{what}: cannot read {write_string(name)}: {reason}", span) from None
        try:
            data += read_all(text, str(path), fold_case)
        except ReadError as error:
            raise SchemeSyntaxError(f"{what}: {error}", span) from None
    return data


@special("include", rewrites=True, signature="(include filename …)",
         doc="The forms of the files, read and put in place of the include (a relative name is found "
             "beside the including file, else in the library search directories, the script's "
             "directory or the current directory).")
def _include(ex: Expander, form, scope, span, fold_case: bool = False):
    data = included_data(form, span, fold_case, ex.libraries.directories() if ex.libraries else ())
    return syntax_list(keyword("begin"), *(datum for datum, _ in data), span=span)


@special("include-ci", rewrites=True, signature="(include-ci filename …)",
         doc="As include, with the files' symbols and characters read case-folded.")
def _include_ci(ex: Expander, form, scope, span):
    return _include(ex, form, scope, span, fold_case=True)

