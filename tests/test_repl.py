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


@pytest.fixture
def session():
    return Session(Interpreter(), out=io.StringIO())


def output_of(session, *entries):
    session.out.seek(0)
    session.out.truncate()
    for entry in entries:
        session.handle(entry)
    return session.out.getvalue()


def test_values_are_written_and_unspecified_is_silent(session):
    assert output_of(session, "(define x 5)", '(list x "s" #\\a)', "(if #f #f)") == '(5 "s" #\\a)\n'
    assert output_of(session, "(values 1 2)") == "1\n2\n"


def test_errors_show_the_position_in_the_entry_and_the_session_survives(session):
    session.handle("(define (f x) (car x))")
    text = output_of(session, "(f 1)")
    assert text == "1:15: error: car: expected a pair, got 1  (,bt shows the backtrace)\n"
    assert output_of(session, ",bt") == "  in f at <repl 1>:1:15\n"
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
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        assert output_of(session, "(gradient chain '(0.5 0.4))") == "interrupted\n"
    finally:
        gc.callbacks[:] = callbacks
    assert output_of(session, "(gradient (lambda (v) (* (car v) (cadr v))) '(2 3))") == "(3 2)\n"
    printing = session.print_value

    def interrupted_while_printing(value):
        raise KeyboardInterrupt
    session.print_value = interrupted_while_printing
    assert output_of(session, "(iota 10)") == "\ninterrupted\n"
    session.print_value = printing
    assert output_of(session, "((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1)") == "1\n"


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

    def wait(self, timeout: float = 30) -> int:
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                os.read(self.fd, 65536)
            except OSError:
                pass
            time.sleep(0.05)
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
