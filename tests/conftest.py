"""Collects the tests written in nablisp itself: every `.scm` file under tests/scm.

In such a file, `(check EXPR => EXPECTED)` passes when EXPR's value is `equal?` to EXPECTED's,
`(check-approx EXPR => EXPECTED)` allows a relative error of 1e-9 (lists and vectors of numbers
element by element), and `(check-error EXPR "text")` passes when EXPR raises an error whose
message contains "text".  Every other form (definitions) runs before the checks that follow it.
Each check is its own pytest item, named by its line.
"""

from __future__ import annotations

import io
import math
import numbers
import re
from pathlib import Path

import pytest

from nablisp.interpreter import Interpreter, NablispError
from nablisp.lang.datum import Pair, Symbol
from nablisp.lang.printer import write_string
from nablisp.lang.reader import read_all

CHECKS = {"check", "check-approx", "check-error"}
REPOSITORY = Path(__file__).resolve().parent.parent


def package_folders() -> set[str]:
    """The folders pyproject.toml installs as nablisp's packages."""
    pyproject = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    package_dirs = pyproject.split("[tool.setuptools.package-dir]")[1].split("\n[")[0]
    return {path.split("/")[0] for path in re.findall(r'^"[\w.]+" = "([\w/]+)"$', package_dirs, re.M)}


def pytest_sessionstart(session):
    # The tests start nablisp hundreds of times, and an editable install leaves bytecode to
    # Python, which writes none where PYTHONDONTWRITEBYTECODE is set: every start would compile
    # every module again (twice the start-up).  compileall writes it whatever that says.
    import compileall
    for folder in sorted(package_folders()):
        compileall.compile_dir(str(REPOSITORY / folder), quiet=1)


@pytest.fixture
def tape_length():
    """``tape_length(interp, source)``: the entries of the tape whose backward pass evaluating
    ``source`` runs first (what a derivative recorded)."""
    from nablisp.ad.reverse import Tape

    def measure(interp, source) -> int:
        lengths = []
        original = Tape.backward

        def backward(self, seeds, trace=None):
            lengths.append(len(self.entries))
            return original(self, seeds, trace)
        Tape.backward = backward
        try:
            interp.eval(source)
        finally:
            Tape.backward = original
        return lengths[0]
    return measure


@pytest.fixture
def session():
    """A REPL session writing to a string (see output_of)."""
    from nablisp.interpreter.repl import Session
    return Session(Interpreter(), out=io.StringIO())


def output_of(session, *entries) -> str:
    """What the session prints for these entries, typed one after another."""
    session.out.seek(0)
    session.out.truncate()
    for entry in entries:
        session.handle(entry)
    return session.out.getvalue()


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".scm" and file_path.parent.name == "scm":
        return ScmFile.from_parent(parent, path=file_path)
    return None


class ScmFile(pytest.File):
    def collect(self):
        data = read_all(self.path.read_text(encoding="utf-8"), str(self.path))
        state = {"interp": None, "setup_failed": None}
        pending_setup = []
        for datum, span in data:
            head = datum.car if isinstance(datum, Pair) else None
            if isinstance(head, Symbol) and head.name in CHECKS:
                yield ScmCheck.from_parent(self, name=f"line {span.line}: {_short(datum)}",
                                           datum=datum, span=span, setup=pending_setup, state=state)
                pending_setup = []
            else:
                pending_setup.append((datum, span))


class ScmCheck(pytest.Item):
    def __init__(self, *, datum, span, setup, state, **kwargs):
        super().__init__(**kwargs)
        self.datum = datum
        self.span = span
        self.setup_forms = setup
        self.state = state

    def runtest(self):
        state = self.state
        if state["interp"] is None:
            state["interp"] = Interpreter()
        interp = state["interp"]
        for datum, span in self.setup_forms:
            try:
                interp.run_nodes(interp.compile_data([(datum, span)]))
            except NablispError as error:
                state["setup_failed"] = f"{span}: setup form failed: {error}"
        self.setup_forms = []
        if state["setup_failed"]:
            raise ScmFailure(state["setup_failed"])
        kind = self.datum.car.name
        parts = list(self.datum)
        if kind == "check-error":
            expected_text = parts[2] if len(parts) > 2 else ""
            try:
                value = interp.run_nodes(interp.compile_data([(parts[1], self.span)]))
            except NablispError as error:
                if expected_text not in error.message:
                    raise ScmFailure(f"{self.span}: error message {error.message!r} does not contain "
                                     f"{expected_text!r}")
                return
            raise ScmFailure(f"{self.span}: expected an error, got the value {write_string(value)}")
        if len(parts) != 4 or parts[2] is not Symbol("=>"):
            raise ScmFailure(f"{self.span}: malformed check: {write_string(self.datum)}")
        try:
            actual = interp.run_nodes(interp.compile_data([(parts[1], self.span)]))
            expected = interp.run_nodes(interp.compile_data([(parts[3], self.span)]))
        except NablispError as error:
            raise ScmFailure(f"{self.span}: {error}") from None
        equal = interp.lookup("equal?")
        same = _approx(actual, expected) if kind == "check-approx" else equal(actual, expected)
        if not same:
            raise ScmFailure(f"{self.span}: {write_string(parts[1])}\n  expected {write_string(expected)}"
                             f"\n  got      {write_string(actual)}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScmFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.span.line - 1, self.name


class ScmFailure(Exception):
    pass


def _approx(actual, expected) -> bool:
    if isinstance(expected, Pair) and isinstance(actual, Pair):
        return len(list(actual)) == len(list(expected)) and all(_approx(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(_approx(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, numbers.Real) and isinstance(actual, numbers.Real) and \
            not isinstance(actual, bool) and not isinstance(expected, bool):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    return actual == expected


def _short(datum) -> str:
    text = write_string(datum)
    return text if len(text) <= 70 else text[:67] + "..."


def interpreter_generating(generated: bool):
    """An interpreter whose derivative operators use generated code (or, with False, only the
    dual numbers and the tape: the reference the generated code is held to)."""
    interp = Interpreter()
    interp.operators.generated.enabled = generated
    return interp


def by_generated_code(interp, expression):
    """The value of ``expression``, which must have been computed by generated derivative code
    (not by the dual numbers or the tape)."""
    before = interp.operators.generated.computed
    value = interp.eval(expression)
    assert interp.operators.generated.computed > before, "the duals or the tape gave it, not generated code"
    return value


def close(a, b, rel=1e-9) -> bool:
    """Numbers, or lists of them, equal to rounding."""
    import math
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(close(x, y, rel) for x, y in zip(a, b))
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def outcome(interp, source):
    """("value", v) or ("error", message) of evaluating ``source``."""
    from nablisp.interpreter import NablispError
    try:
        return ("value", interp.eval(source))
    except NablispError as error:
        return ("error", error.message)


@pytest.fixture(scope="module")
def pair():
    """(an interpreter using generated derivative code, one using only the duals and the tape)."""
    return interpreter_generating(True), interpreter_generating(False)


def assert_same_outcome(interps, source, rel=1e-9):
    """``source`` gives, by generated code and by the duals or tape, the same error or the same
    numbers (a number, or a list of them) to rounding; NaN where the other has NaN."""
    import math
    generated, reference = interps
    first, second = outcome(generated, source), outcome(reference, source)
    assert first[0] == second[0], (source, first, second)
    if first[0] == "error":
        assert first[1] == second[1], source
        return
    a, b = first[1], second[1]
    pairs = []
    pending = [(a, b)]
    while pending:      # numbers, lists of them, or matrices (Hessians)
        p, q = pending.pop()
        if isinstance(q, list):
            assert isinstance(p, list) and len(p) == len(q), (source, a, b)
            pending.extend(zip(p, q))
        else:
            pairs.append((p, q))
    for p, q in pairs:
        if isinstance(q, float) and math.isnan(q):
            assert isinstance(p, float) and math.isnan(p), (source, a, b)
        elif isinstance(q, float) and math.isinf(q):
            assert p == q, (source, a, b)
        else:
            assert close(p, q, rel=rel), (source, a, b)
