"""The REPL: the session logic, prompt_toolkit's key handling (pipe input, dummy output), and the
real `nablisp` in a pseudo-terminal."""

import io
import os
import re
import select
import sys
import time

import pytest

from nablisp.interpreter import Interpreter
from nablisp.interpreter.repl import (SchemeCompleter, Session, TerminalRepl, history_path,
                                      indentation, nablisp_lexer)
from conftest import output_of  # the session fixture is in conftest too


def test_values_are_written_and_unspecified_is_silent(session):
    assert output_of(session, "(define x 5)", '(list x "s" #\\a)', "(if #f #f)") == '(5 "s" #\\a)\n'
    assert output_of(session, "(values 1 2)") == "1\n2\n"


def test_fold_case_typed_at_the_prompt_lasts_until_no_fold_case(session):
    # the REPL's entries are one port, so a #!fold-case directive holds for those that follow
    assert output_of(session, "#!fold-case", "(DEFINE X 5)", "(list X 'ABC)") == "(5 abc)\n"
    assert output_of(session, "#!no-fold-case", "'ABC") == "ABC\n"


def test_errors_show_the_position_in_the_entry_and_the_session_survives(session):
    session.handle("(define (f x) (car x))")
    text = output_of(session, "(f 1)")
    # the place is in an earlier entry: say which, and show it
    assert text == ("<repl 1>:1:15: error: car: expected a pair, got 1  (,bt shows the backtrace)\n"
                    "  entry 1: (define (f x) (car x))\n"
                    "                         ^\n")
    assert output_of(session, ",bt") == "  in f at <repl 1>:1:15\n"
    # in the entry itself, the line and column are enough
    assert output_of(session, "(+ 1\n   (car 2))") == "2:4: error: car: expected a pair, got 2\n"
    assert output_of(session, "(f '(7))") == "7\n"
    assert output_of(session, "(if)").startswith("1:1: syntax error: if:")
    assert output_of(session, "(1 2").startswith("1:1: read error: missing ')'")


def test_meta_commands(session, tmp_path):
    assert ",describe NAME" in output_of(session, ",help")
    assert re.fullmatch(r"144\n; \d+\.\d+ s\n", output_of(session, ",time (* 12 12)"))
    assert output_of(session, ",bt") == "no error yet\n"
    library = tmp_path / "lib.scm"
    library.write_text("(define from-file 42)")
    output_of(session, f",load {library}")
    assert output_of(session, "from-file") == "42\n"
    assert output_of(session, ",env") == "from-file\n"
    assert output_of(session, ",describe car").startswith("car is a procedure of 1 argument, built in.\n")
    assert output_of(session, ",describe D").startswith("D is a procedure of 1 to 2 arguments, built in")
    assert output_of(session, ",describe let").startswith("let is a special form, built in.\n")
    assert output_of(session, ",describe from-file") == "from-file is a variable: 42\n"
    assert output_of(session, ",describe nothing") == "nothing is not bound\n"
    assert output_of(session, ",reset") == "fresh environment\n"
    assert "unbound variable: from-file" in output_of(session, "from-file")
    assert output_of(session, ",nonsense").startswith("unknown command ,nonsense")
    assert session.handle(",quit") is False


def test_interrupting_an_evaluation_keeps_the_session(session):
    import _thread
    import threading
    session.handle("(define kept 'still-here)")
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    assert output_of(session, "(let loop () (loop))") == "interrupted\n"
    assert output_of(session, "kept") == "still-here\n"
    assert output_of(session, "((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1)") == "1\n"


def test_interrupting_a_backward_pass_and_printing_keeps_the_session(session):
    import _thread
    import gc
    import threading
    session.handle("(define (chain p) (let loop ((k 0) (y 0.5)) (if (= k 2000000) y "
                   "(loop (+ k 1) (+ (* (car p) (sin y)) (* (cadr p) y) 0.1)))))")
    # The test process has garbage-collector callbacks of its own (hypothesis times the
    # collector); an interrupt that lands inside one is printed and dropped by CPython, never
    # reaching the session.  A user's REPL has none.
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    # the tape's backward pass is what is interrupted first (generated code computes this
    # gradient in forward mode, without one); then a loop of generated code
    session.interp.operators.generated.enabled = False
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        assert output_of(session, "(gradient chain '(0.5 0.4))") == "interrupted\n"
        session.interp.operators.generated.enabled = True
        timer = threading.Timer(1.5, _thread.interrupt_main)
        timer.start()
        assert output_of(session, "((D (lambda (a) (let loop ((k 0) (y 0.5)) (if (= k 1000000000) y "
                                  "(loop (+ k 1) (+ (* a (sin y)) 0.1)))))) 0.5)") == "interrupted\n"
    finally:
        gc.callbacks[:] = callbacks
    assert output_of(session, "(gradient (lambda (v) (* (car v) (cadr v))) '(2 3))") == "(3 2)\n"
    printing = session.print_value

    def interrupted_while_printing(value, matrix_rows=False):
        raise KeyboardInterrupt
    session.print_value = interrupted_while_printing
    assert output_of(session, "(iota 10)") == "interrupted\n"
    session.print_value = printing
    assert output_of(session, "((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1)") == "1\n"


def test_every_form_of_an_entry_prints_its_values(session):
    assert output_of(session, "1 2 3") == "1\n2\n3\n"
    assert output_of(session, "(define x 4) (* x x) (values 5 6)") == "16\n5\n6\n"
    # the values before an error are printed, the error stops the entry
    assert output_of(session, "7 (car 1) 8") == "7\n1:3: error: car: expected a pair, got 1\n"
    # and nothing runs when a later form does not even read
    assert output_of(session, "(define y 1) (").startswith("1:14: read error")
    assert "unbound variable: y" in output_of(session, "y")


def test_the_last_three_values_are_dollar_names(session):
    assert "unbound variable: $" in output_of(session, "$")
    output_of(session, "10", "(if #f #f)", "20 (values 30 40)")
    assert output_of(session, "(list $ $$ $$$)") == "(40 30 20)\n"
    assert output_of(session, "(* 2 $$$)") == "60\n"     # printing the list moved them on: $$$ is 30
    assert output_of(session, "$$") == "(40 30 20)\n"
    assert output_of(session, ",env") == "(nothing defined yet)\n"


def test_matrices_and_long_lists_are_pretty_printed_but_write_is_not(session, capsys):
    six = "(hessian (lambda (v) (apply * v)) '(1 2 3 4 5 6))"
    text = output_of(session, six)
    rows = text.splitlines()
    assert len(rows) == 6
    assert rows[0] == "((  0 360 240 180 144 120)"
    assert rows[5] == " (120  60  40  30  24   0))"
    # `write` (to the program's output) still gives R7RS's one line, of the same numbers
    capsys.readouterr()
    output_of(session, f"(write {six})")
    written = capsys.readouterr().out
    assert written.startswith("((0 360 240 180 144 120) (360 0 120") and written.count("\n") == 1
    assert " ".join(text.split()).replace("( ", "(") == written.strip()
    long_list = output_of(session, "(iota 40)").splitlines()
    assert long_list == ["(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29",
                         " 30 31 32 33 34 35 36 37 38 39)"]
    assert output_of(session, "'((8 6) (6 0))") == "((8 6) (6 0))\n"     # fits: one line
    assert output_of(session, ",pp '((8 6) (6 0))") == "((8 6)\n (6 0))\n"
    assert output_of(session, ",pp") == ",pp needs an expression\n"


def test_trace_shows_calls_and_results_and_untrace_stops(session):
    session.handle("(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))")
    assert output_of(session, ",trace fact") == "tracing fact\n"
    assert output_of(session, "(fact 2)") == (">(fact 2)\n  >(fact 1)\n    >(fact 0)\n    <1\n"
                                             "  <1\n<2\n2\n")
    assert output_of(session, ",trace fact") == "fact is traced already\n"
    # a traced procedure is still differentiable, and the hint still knows its arity
    session.handle("(define (sq x) (* x x))")
    output_of(session, ",trace sq")
    assert output_of(session, "((D sq) 3)").splitlines()[-1] == "6"
    assert "takes 1 argument but was given 2" in output_of(session, "((gradient sq) 1 2)")
    assert output_of(session, ",untrace") == "fact is not traced any more\nsq is not traced any more\n"
    assert output_of(session, "(fact 3)") == "6\n"
    assert output_of(session, ",trace fac") == "fac is not bound; did you mean fact?\n"
    assert output_of(session, ",trace pi-ish") == "pi-ish is not bound\n"
    session.handle("(define pi-ish 3)")
    assert output_of(session, ",trace pi-ish") == "pi-ish is not a procedure: 3\n"


def capture_output(session, text: str) -> str:
    """What ``text`` prints on the current output port (show-tape writes there)."""
    import contextlib
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        session.handle(text)
    return printed.getvalue()


def test_a_session_after_a_program_has_its_names_history_and_traces(tmp_path):
    interp = Interpreter()
    interp.run_program("(import (scheme base))\n(define (double x) (* 2 x))\n(define seven 7)", "program.scm")
    interp.enter_program()
    session = Session(interp, out=io.StringIO())
    assert output_of(session, "(double seven)") == "14\n"
    assert output_of(session, "(+ $ 1)") == "15\n"
    assert output_of(session, "$$") == "14\n"
    assert output_of(session, ",env") == "double seven\n"
    assert output_of(session, ",trace double", "(double 2)") == "tracing double\n>(double 2)\n<4\n4\n"
    assert output_of(session, ",untrace double", "(double 3)") == "double is not traced any more\n6\n"
    assert output_of(session, ",trace car") == "tracing car\n"
    assert "unbound variable: D" in output_of(session, "(D double)")
    # what the meta-commands say and do there: the program's names, the commands' own procedures
    assert output_of(session, ",doc double").startswith("double is a procedure of 1 argument, defined at program.scm:2")
    assert output_of(session, ",doc seven").startswith("seven is a variable: 7")
    assert output_of(session, ",doc D") == "D is not bound\n"
    assert "double" in output_of(session, ",apropos doub")
    assert "(lambda" in output_of(session, ",code (lambda (x) (double x))")
    assert "gradient: 2" in capture_output(session, ",tape (double 3)")
    assert "load: no such file" in output_of(session, ",load /no/such/file.scm")
    session.handle("(define (show-tape . anything) 'not-the-tape)")       # the program's own
    assert "gradient: 2" in capture_output(session, ",tape (double 3)")
    from prompt_toolkit.document import Document
    metas = {c.text: c.display_meta_text for c in SchemeCompleter(session).get_completions(Document("(dou"), None)}
    assert metas == {"double": "(double x)"}


def test_the_backtrace_of_the_error_a_program_run_before_ended_with():
    # nablisp -i prog.scm reports the program's error, then ,bt shows where it was
    from nablisp.interpreter import NablispError
    interp = Interpreter()
    try:
        interp.run_program("(import (scheme base))\n(define (inner x) (car x))\n(define (outer x) (+ 1 (inner x)))\n"
                           "(outer 5)", "program.scm")
    except NablispError as error:
        interp.reported_error = error
    interp.enter_program()
    session = Session(interp, out=io.StringIO())
    text = output_of(session, ",bt")
    assert "inner" in text and "program.scm:2" in text


def test_trace_of_deep_recursion_shows_the_depth():
    session = Session(Interpreter(), out=io.StringIO())
    session.handle("(define (down n) (if (= n 0) 'bottom (down (- n 1))))")
    text = output_of(session, ",trace down", "(down 20)")
    assert "[20] >(down 0)\n" in text
    assert text.endswith("<bottom\nbottom\n")


def test_expand_shows_core_forms_and_defines_nothing(session):
    assert output_of(session, ",expand (let loop ((i 0)) (when (< i 3) (loop (+ i 1))))") == \
        "(letrec* ((loop (lambda (i) (if (< i 3) (loop (+ i 1)))))) (loop 0))\n"
    assert output_of(session, ",expand (define (h x) (cond ((> x 0) 'pos) (else 'other)))") == \
        "(define h (lambda (x) (if (> x 0) (quote pos) (quote other))))\n"
    assert "unbound variable: h" in output_of(session, "h")
    output_of(session, ",expand (define-syntax twice (syntax-rules () ((_ e) (begin e e))))")
    assert "unbound variable: twice" in output_of(session, "(twice 1)")
    # a macro's temporary and the user's variable of the same name are told apart
    session.handle("(define-syntax my-or (syntax-rules () ((_ a b) (let ((t a)) (if t t b)))))")
    assert output_of(session, ",expand (let ((t 5)) (my-or #f t))") == \
        "(let ((t.1 5)) (let ((t.2 #f)) (if t.2 t.2 t.1)))\n"
    assert output_of(session, ",expand (if)").startswith("1:1: syntax error: if:")
    assert output_of(session, ",expand") == ",expand needs a form: ,expand (let ((x 1)) (* x x))\n"


def test_load_takes_a_quoted_name_and_dot_without_a_file_says_how(session, tmp_path):
    library = tmp_path / "with space.scm"
    library.write_text("(define loaded 'yes)")
    assert output_of(session, f',load "{library}"') == ""
    assert output_of(session, "loaded") == "yes\n"
    assert output_of(session, ',load "unterminated') == ',load needs a file name: ,load file.scm or ,load "file.scm"\n'
    usage = ",dot needs a call and a file name: ,dot (f 1 2) graph.dot\n"
    assert output_of(session, ",dot") == usage
    assert output_of(session, ",dot (f 1 2)") == usage
    session.handle("(define (f v) (* (car v) (cadr v)))")
    target = tmp_path / "g.dot"
    assert output_of(session, f",dot (f '(1 2)) {target}").startswith(f"wrote the expression graph to {target}")
    assert target.read_text().startswith("digraph")
    quoted = tmp_path / "my graph.dot"
    output_of(session, f',dot (f \'(1 2)) "{quoted}"')
    assert quoted.read_text().startswith("digraph")


def test_cd_and_pwd(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "sub dir" / "here.scm").write_text("(define here 1)")
    assert output_of(session, ",pwd") == f"{tmp_path}\n"
    assert output_of(session, ',cd "sub dir"') == f"{tmp_path / 'sub dir'}\n"
    output_of(session, ",load here.scm")           # relative to the new directory
    assert output_of(session, "here") == "1\n"
    assert output_of(session, ",cd /no/such/dir") == ",cd: cannot change to /no/such/dir: No such file or directory\n"
    assert output_of(session, ",pwd") == f"{tmp_path / 'sub dir'}\n"


def test_indentation_follows_open_brackets():
    assert indentation("(define (f x)") == 2
    assert indentation("(let ((x 1)\n      (y") == 6
    assert indentation('(display ")"') == 2


def test_completion_of_names_and_meta_commands():
    from prompt_toolkit.document import Document
    completer = SchemeCompleter(Session(Interpreter()))
    names = {c.text for c in completer.get_completions(Document("(gradient-f"), None)}
    assert names == {"gradient-forward"}
    names = {c.text for c in completer.get_completions(Document("(call-with-c"), None)}
    assert "call-with-current-continuation" in names
    assert {c.text for c in completer.get_completions(Document(",de"), None)} == {",describe"}


def test_highlighting_knows_nablisp_names():
    from pygments.token import Name
    tokens = list(nablisp_lexer()().get_tokens("(hessian f x)"))
    assert (Name.Builtin, "hessian") in tokens


def test_history_file_is_overridable_and_unwritable_means_none(tmp_path, monkeypatch):
    monkeypatch.setenv("NABLISP_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
    monkeypatch.setenv("NABLISP_HISTORY", "/nonexistent-dir/for/sure/h")
    assert history_path() is None


def _prompt_with_keys(keys: str, tmp_path, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    monkeypatch.setenv("NABLISP_HISTORY", str(tmp_path / "history"))
    with create_pipe_input() as pipe:
        repl = TerminalRepl(Interpreter(), color=True, input=pipe, output=DummyOutput())
        prompt_session = repl.make_prompt_session()
        pipe.send_text(keys)
        return prompt_session.prompt("> ")


def test_enter_submits_only_a_complete_datum(tmp_path, monkeypatch):
    text = _prompt_with_keys("(define (f x)\r(* x x))\r", tmp_path, monkeypatch)
    assert text == "(define (f x)\n  (* x x))"


def test_brackets_in_strings_and_characters_do_not_count(tmp_path, monkeypatch):
    assert _prompt_with_keys('(display ")")\r', tmp_path, monkeypatch) == '(display ")")'
    assert _prompt_with_keys("(list #\\( 1)\r", tmp_path, monkeypatch) == "(list #\\( 1)"
    assert _prompt_with_keys("(f ; )\r x)\r", tmp_path, monkeypatch) == "(f ; )\n   x)"


def test_meta_commands_submit_at_once(tmp_path, monkeypatch):
    assert _prompt_with_keys(",time (f\r", tmp_path, monkeypatch) == ",time (f"


# -- end to end, in a pseudo-terminal ------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|\r")


class Terminal:
    def __init__(self, tmp_path):
        import pty
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update({"TERM": "xterm", "NABLISP_HISTORY": str(tmp_path / "history"),
                               "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "100", "LINES": "40"})
            os.execv(sys.executable, [sys.executable, "-m", "nablisp.interpreter.cli"])
        self.seen = ""

    def send(self, text: str):
        os.write(self.fd, text.encode())

    def expect(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, ANSI.sub("", self.seen)):
                found = ANSI.sub("", self.seen)
                self.seen = ""
                return found
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:
                    break
        raise AssertionError(f"did not see {pattern!r} in {ANSI.sub('', self.seen)!r}")

    def wait(self, timeout: float = 30, resend: str | None = None) -> int:
        """The exit status of the REPL; ``resend`` is typed again every two seconds (a Ctrl-D
        that arrives before the prompt has put the terminal in raw mode is taken as an end of
        line and lost)."""
        deadline = time.time() + timeout
        next_resend = time.time() + 2
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.05)     # never block on a silent REPL
            if ready:
                try:
                    os.read(self.fd, 65536)
                except OSError:
                    pass
            if resend is not None and time.time() > next_resend:
                self.send(resend)
                next_resend = time.time() + 2
        os.kill(self.pid, 9)
        raise AssertionError("the REPL did not exit")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="runs the REPL in a pseudo-terminal (pty.fork, POSIX only)")
def test_repl_in_a_terminal(tmp_path):
    term = Terminal(tmp_path)
    term.expect(r"nablisp \d+\.\d+\.\d+ .*,help")
    term.send("(define (square-it x)\r")
    term.send("(* x x))\r")
    term.send("(square-it 12)\r")
    term.expect(r"\n144\b")
    term.send("(car 5)\r")
    term.expect(r"error: car: expected a pair, got 5")
    term.send("(square-it 3)\r")
    term.expect(r"\n9\b")
    term.send("(let loop () (loop))\r")
    time.sleep(1.0)
    term.send("\x03")
    term.expect(r"interrupted")
    term.send("(square-it 4)\r")
    term.expect(r"\n16\b")
    time.sleep(0.5)
    term.send("\x1b[A")            # history: the previous entry comes back
    time.sleep(0.5)
    term.send("\r")
    term.expect(r"\n16\b")
    time.sleep(0.5)
    term.send("\x04")              # Ctrl-D
    assert term.wait() == 0
    history = (tmp_path / "history").read_text()
    assert "+(define (square-it x)\n+  (* x x))" in history


@pytest.mark.skipif(not hasattr(os, "fork"), reason="runs the REPL in a pseudo-terminal (pty.fork, POSIX only)")
def test_issue_17_in_a_terminal(tmp_path):
    """What a learner met at the prompt, as the terminal shows it (the echo of each entry is in
    the output too, so each pattern matches what only the answer prints)."""
    library = tmp_path / "my lib.scm"
    library.write_text("(define (from-lib) 'loaded)")
    term = Terminal(tmp_path)
    term.expect(r",help")

    def entry(text: str, answer: str):
        term.send(text + "\r")
        return term.expect(answer)

    # output without a final newline is not drawn over by the prompt
    entry('(display "hello")', r"\nhello\n")
    entry('(begin (display "hi") 5)', r"\nhi\n5\n")
    entry("1 2 3", r"\n1\n2\n3\n")
    entry("(* $ 10)", r"\n30\n")
    entry("(hessian (lambda (v) (apply * v)) '(1 2 3 4 5 6))",
          r"\n\(\(  0 360 240 180 144 120\)\n \(360   0 120  90  72  60\)\n(.*\n){3} \(120  60  40  30  24   0\)\)\n")
    entry(",pp '((8 6) (6 0))", r"\n\(\(8 6\)\n \(6 0\)\)\n")
    entry("(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))", r"> ")
    entry(",trace fact", r"tracing fact\n")
    entry("(fact 2)", r"\n>\(fact 2\)\n  >\(fact 1\)\n    >\(fact 0\)\n    <1\n  <1\n<2\n2\n")
    entry(",untrace fact", r"fact is not traced any more\n")
    entry("(fact 3)", r"\n6\n")
    entry(",expand (unless #f 'x)", r"\n\(if #f \(if #f #f\) \(quote x\)\)\n")
    entry("(define (g x) (car x))", r"> ")
    seen = entry("(g 1)", r"\n<repl (\d+)>:1:15: error: car: expected a pair, got 1  \(,bt shows the backtrace\)\n"
                          r"  entry \1: \(define \(g x\) \(car x\)\)\n *\^\n")
    quoted, caret = seen.split("\n")[-3:-1]
    assert caret.index("^") == quoted.index("(car x)")
    entry(",bt", r"\n  in g at <repl \d+>:1:15\n")
    entry("(lenght '(1 2))", r"\n1:1: error: unbound variable: lenght; did you mean length\?\n")
    entry("(newton-root (lambda (x) (+ (* x x) 1)) 1.0)", r"\n1:1: error: /: division by zero")
    seen = entry("(+ 1 (iota 100000))", r"\n1:1: error: \+: expected a number, got \(0 1 2 3 [0-9 ]+\.\.\.\n")
    assert len(seen) < 1000
    entry(f',load "{library}"', r"> ")
    entry("(from-lib)", r"\nloaded\n")
    entry(",dot", r"\n,dot needs a call and a file name: ,dot \(f 1 2\) graph\.dot\n")
    entry("(hvp (lambda (v) v) '(3 4) '(1 0))", r"\n1:1: error: hvp: the function returned \(3 4\), not a number")
    entry("(hessian (lambda (x y) (* x x y)) 1 2)", r"\n\(\(4 2\) \(2 0\)\)\n")
    entry("(nth-derivative 2 (lambda (x) (* x x x)) 5)", r"\n30\n")
    entry("(gradient (lambda (x y) (* x y)) '(1 2))",
          r"\n1:1: error: gradient: the function takes 2 arguments but was given 1 \(a list\); to differentiate "
          r"with respect to several arguments pass them separately: \(\(gradient f\) 1 2\), or make f take a list\n")
    entry(f",cd {tmp_path}", rf"\n{re.escape(str(tmp_path))}\n")
    entry(",pwd", rf"\n{re.escape(str(tmp_path))}\n")
    entry(",time (fact 5)", r"\n120\n; \d+\.\d+ s\n")
    time.sleep(0.5)
    term.send("\x04")
    assert term.wait(resend="\x04") == 0


def test_code_shows_the_generated_derivative_or_why_there_is_none(session):
    output_of(session, "(define (f x) (let ((a (* x x)) (b (sin x))) (* a b)))")
    assert output_of(session, ",code f") == (
        "(lambda\n (x)\n (let*\n  ((a (* x x)) (da (+ x x)) (b (sin x)) (db (cos x)))\n  (+ (* da b) (* a db))))\n")
    assert output_of(session, ",code") == ",code needs a procedure: ,code (lambda (x) (* x (sin x)))\n"
    assert "because it applies list, which the transformation does not read" in \
        output_of(session, ",code (lambda (x) (list x))")
    assert "a built-in procedure" in output_of(session, ",code car")
