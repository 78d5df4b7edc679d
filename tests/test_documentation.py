"""Documentation as data: docstrings of nablisp procedures, the declared documentation of
built-ins and special forms, `,doc` / `,describe` / `,apropos`, completion meta, and the
reference page stdlib/REFERENCE.md that must list every bound name."""

import io
import os
import time
from pathlib import Path

import pytest

from nablisp.interpreter import Interpreter
from nablisp.interpreter import documentation as docs
from nablisp.interpreter.primitives.registry import BUILTINS, DOCUMENTATION
from nablisp.interpreter.repl import SchemeCompleter, Session
from conftest import output_of  # the session fixture is in conftest too

REFERENCE = Path(__file__).resolve().parent.parent / "stdlib" / "REFERENCE.md"


@pytest.fixture(scope="module")
def interp():
    return Interpreter()


# -- every name is documented, truthfully ------------------------------------------------------

def test_every_bound_name_has_a_signature_and_a_paragraph(interp):
    assert docs.undocumented(interp) == []
    assert len(interp.bound_names()) > 400


def test_a_name_without_documentation_is_found():
    fresh = Interpreter()
    fresh.define("undocumented-helper", lambda x: x)
    fresh.evaluate("(define (plain x) x) (define-syntax my-macro (syntax-rules () ((_) 1)))")
    assert {"undocumented-helper", "plain", "my-macro"} <= set(docs.undocumented(fresh))


def test_the_reference_page_is_up_to_date(interp):
    expected = docs.reference_page(interp)
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        "stdlib/REFERENCE.md is out of date: python -m nablisp.interpreter.documentation > stdlib/REFERENCE.md")


def test_the_reference_page_lists_every_name_once(interp):
    page = REFERENCE.read_text(encoding="utf-8")
    for name in interp.bound_names():
        assert page.count(f'<a id="{docs._anchor(name)}"></a>') == 1, name
    assert "(undocumented)" not in page


def _arity_range(arity):
    least, most = arity
    return least, float("inf") if most is None else most


def test_signatures_agree_with_what_procedures_accept(interp):
    """A signature names its procedure and admits no call the procedure refuses by its
    parameters (a procedure may check more itself: (any pred) has no list to walk)."""
    checked = 0
    for name in interp.bound_names():
        entry = docs.documentation(interp, name)
        if entry.kind != "procedure":
            continue
        forms = docs.signature_forms(entry.signature)
        assert forms and all(form.startswith(f"({name} ") or form == f"({name})" for form in forms), name
        accepted = docs.code_arity(interp.globals[name])
        if accepted is None:
            continue
        least, most = _arity_range(docs.signature_arity(entry.signature))
        accepted_least, accepted_most = _arity_range(accepted)
        assert accepted_least <= least and most <= accepted_most, (name, entry.signature, accepted)
        checked += 1
    assert checked > 350


@pytest.mark.parametrize("signature, arity", [
    ("(car pair)", (1, 1)),
    ("(+ z …)", (0, None)),
    ("(- z) (- z w …)", (1, None)),
    ("(atan z) (atan y x)", (1, 2)),
    ("(string-copy string [start [end]])", (1, 3)),
    ("(tape->svg f x … filename)", (2, None)),
    ("(f x . rest)", (1, None)),
    ("(eof-object)", (0, 0)),
])
def test_signature_arity(signature, arity):
    assert docs.signature_arity(signature) == arity


def test_aliases_are_documented_under_their_own_name(interp):
    entry = docs.documentation(interp, "hvp")
    assert (entry.signature, entry.alias_of, entry.arity) == ("(hvp f x v)", "hessian-vector-product", (3, 3))
    assert docs.documentation(interp, "modulo").signature == "(modulo n d)"
    assert docs.documentation(interp, "D").signature == "(D f) (D f x)"


# -- docstrings in nablisp code -----------------------------------------------------------------

def test_a_docstring_documents_a_procedure_and_changes_nothing_else():
    fresh = Interpreter()
    fresh.evaluate('(define (twice x) "Twice x." (* 2 x))'
                   '(define (only-a-string) "not a docstring")'
                   '(define thrice (lambda (x) "Three times x." (define y 3) (* y x)))'
                   '(define (outer) (define (inner z) "Inner." z) inner)')
    assert fresh.eval("(list (twice 4) (only-a-string) (thrice 2))") == [8, "not a docstring", 6]
    assert fresh.eval("(procedure-documentation twice)") == "Twice x."
    assert fresh.eval("(procedure-documentation only-a-string)") is False
    assert fresh.eval("(procedure-documentation thrice)") == "Three times x."
    assert fresh.eval("(procedure-documentation (outer))") == "Inner."
    assert fresh.eval("(procedure-documentation (lambda (x) x))") is False
    assert fresh.eval("(procedure-documentation car)") == DOCUMENTATION["car"][1]
    assert "Hessian" in fresh.eval("(procedure-documentation hvp)")
    with pytest.raises(Exception, match="procedure-documentation: expected a procedure, got 5"):
        fresh.eval("(procedure-documentation 5)")


def test_a_docstring_survives_redefining_a_built_in_name():
    # a definition of a built-in's name is wrapped (runtime.resolving); the docstring stays
    fresh = Interpreter()
    fresh.evaluate('(define (list-copy l) "My copy." l)')
    assert fresh.eval("(procedure-documentation list-copy)") == "My copy."
    assert docs.documentation(fresh, "list-copy").text == "My copy."


def test_a_derivative_of_a_documented_procedure_is_still_right():
    fresh = Interpreter()
    fresh.evaluate('(define (cube x) "x cubed." (* x x x))')
    assert fresh.eval("((D cube) 2)") == 12
    assert fresh.eval("((gradient cube) 3.0)") == 27.0


def test_python_procedures_document_themselves_with_their_docstring():
    fresh = Interpreter()

    def scaled(x, k):
        """(scaled x k)

        x times k, from Python."""
        return x * k

    def plain(x):
        """A docstring written as Python's."""
        return x
    fresh.define("scaled", scaled)
    fresh.define("plain", plain)
    fresh.define("bare", lambda x: x)
    entry = docs.documentation(fresh, "scaled")
    assert (entry.signature, entry.text, entry.arity) == ("(scaled x k)", "x times k, from Python.", (2, 2))
    assert docs.documentation(fresh, "plain").text == "A docstring written as Python's."
    assert fresh.eval("(list (procedure-documentation plain) (procedure-documentation bare))") == \
        ["A docstring written as Python's.", False]
    # a primitive made for each interpreter answers with its declared paragraph, not its Python docstring
    assert fresh.eval("(procedure-documentation environment)") == DOCUMENTATION["environment"][1]


# -- the REPL's commands ------------------------------------------------------------------------

def test_doc_of_a_user_procedure_shows_its_parameters_and_docstring(session):
    session.handle('(define (my-proc a b . more)\n  "Adds a to b and ignores the rest."\n  (+ a b))')
    assert output_of(session, ",doc my-proc") == (
        "my-proc is a procedure of 2 or more arguments, defined at <repl 1>:1:1.\n"
        "  (my-proc a b . more)\n"
        "  Adds a to b and ignores the rest.\n")
    session.handle("(define (bare x) x)")
    assert "No documentation: a string first in its body documents it" in output_of(session, ",doc bare")


def test_doc_of_prelude_and_built_in_procedures(session):
    text = output_of(session, ",describe newton-minimize")
    assert text.startswith("newton-minimize is a procedure of 2 to 4 arguments, from the prelude.\n"
                           "  (newton-minimize f x0 [tolerance [max-iterations]])\n  Newton's method")
    assert output_of(session, ",doc hvp").startswith(
        "hvp is a procedure of 3 arguments, built in (another name for hessian-vector-product).\n"
        "  (hvp f x v)\n")
    assert output_of(session, ",doc car") == (
        "car is a procedure of 1 argument, built in.\n  (car pair)\n"
        "  The first part (car) of pair: the first element of a list.\n")


def test_doc_of_special_forms_variables_and_unbound_names(session):
    assert output_of(session, ",doc if").startswith(
        "if is a special form, built in.\n  (if test consequent [alternative])\n  Evaluate test;")
    session.handle("(define answer 42)")
    assert output_of(session, ",doc answer") == "answer is a variable: 42\n"
    assert output_of(session, ",doc no-such-name") == "no-such-name is not bound\n"
    session.handle("(define-syntax swap! (syntax-rules () ((_ a b) (let ((t a)) (set! a b) (set! b t)))))")
    assert output_of(session, ",doc swap!") == "swap! is a macro, defined at <repl 5>:1:1.\n"
    assert output_of(session, ",doc") == ",doc needs a name\n"
    assert ",apropos WORD" in output_of(session, ",help")


def test_apropos_lists_names_then_mentions(session):
    text = output_of(session, ",apropos hessian")
    names, _, mentions = text.partition("mentioned in the documentation of:\n")
    assert [line.split()[0] for line in names.splitlines()] == ["hessian", "hessian-code", "hessian-vector-product"]
    assert "newton-minimize" in mentions.split() and "hvp" in mentions.split()
    assert output_of(session, ",apropos qwertyuiop") == \
        "no name contains 'qwertyuiop' and no documentation mentions it\n"
    session.handle('(define (my-solver f) "Finds a qwertyuiop of f." f)')
    assert "my-solver" in output_of(session, ",apropos qwertyuiop")


def test_completions_show_the_signature():
    from prompt_toolkit.document import Document
    completer = SchemeCompleter(Session(Interpreter()))
    metas = {c.text: c.display_meta_text for c in completer.get_completions(Document("(jacobian-"), None)}
    assert metas == {"jacobian-forward": "(jacobian-forward f) …", "jacobian-reverse": "(jacobian-reverse f) …"}
    metas = {c.text: c.display_meta_text for c in completer.get_completions(Document("(newton-m"), None)}
    assert metas == {"newton-minimize": "(newton-minimize f x0 [tolerance [max-iterations]])",
                     "newton-minimize-path": "(newton-minimize-path f x0 [tolerance [max-iterations]])"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="runs the REPL in a pseudo-terminal (pty.fork, POSIX only)")
def test_doc_apropos_and_completion_in_a_terminal(tmp_path):
    from test_repl import Terminal
    term = Terminal(tmp_path)
    term.expect(r",help")
    term.send('(define (area r) "The area of a disc of radius r." (* 3.14159 r r))\r')
    term.send(",doc area\r")
    term.expect(r"area is a procedure of 1 argument, defined at <repl 1>:1:1\.\s+\(area r\)\s+"
                r"The area of a disc of radius r\.")
    term.send(",describe hvp\r")
    term.expect(r"hvp is a procedure of 3 arguments")
    term.send(",apropos taylor\r")
    term.expect(r"taylor-coefficients +The first n Taylor coefficients")
    term.send("(gradient-des\t")     # two completions: a menu, each with its signature
    term.expect(r"\(gradient-descent f x0 step iterations\)")
    time.sleep(0.3)
    term.send("\x03\x04")          # drop the entry, then Ctrl-D
    assert term.wait() == 0
