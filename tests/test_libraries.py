"""R7RS libraries: define-library, import sets, the standard libraries and (nablisp), library
files found on the search path, and programs that see only what they import."""

import os
import subprocess
import sys

import pytest

from nablisp.interpreter.errors import NablispError
from nablisp.interpreter.embedding import to_python
from nablisp.interpreter.interpreter import Interpreter
from nablisp.lang.datum import Symbol


def run(args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


def program(source: str, interp=None):
    interp = interp or Interpreter()
    return to_python(interp, interp.run_program(source, "p.scm"))


def program_error(source: str) -> str:
    with pytest.raises(NablispError) as info:
        program(source)
    return info.value.located()


# -- import sets ---------------------------------------------------------------------------------

def test_prefix_binds_prefixed_names_only():
    assert program("(import (prefix (scheme base) b:)) (b:car (b:list 3 4))") == 3
    assert program_error("(import (prefix (scheme base) b:)) (b:car (car '(1)))") == \
        "p.scm:1:43: error: unbound variable: car; did you mean b:car?"    # the prefixed name it imported


def test_only_except_and_rename_hide_and_rename():
    assert program("(import (only (scheme base) car quote)) (car '(1 2))") == 1
    assert "unbound variable: cdr" in program_error("(import (only (scheme base) car quote)) (cdr '(1 2))")
    assert "unbound variable: cdr" in program_error(
        "(import (except (scheme base) cdr)) (cdr '(1 2))")
    assert program("(import (except (scheme base) cdr)) (cadr '(1 2))") == 2
    assert program("(import (rename (scheme base) (car first))) (first '(5 6))") == 5
    assert "unbound variable: car" in program_error("(import (rename (scheme base) (car first))) (car '(5 6))")
    # nested sets apply from the inside out
    assert program("(import (prefix (only (scheme base) car list) s:)) (s:car (s:list 7))") == 7
    # 'x is (quote x): with quote imported only as s:quote, it is unbound, as R7RS has it
    assert "unbound variable: quote" in program_error("(import (prefix (scheme base) s:)) (s:car '(7))")


def test_import_set_errors_are_syntax_errors_with_a_location():
    # at the import set that is wrong
    assert program_error("(import (only (scheme base) kar))") == \
        "p.scm:1:9: syntax error: import: (only …): kar is not exported by (scheme base)"
    assert program_error("(import (scheme basic))").startswith(
        "p.scm:1:9: syntax error: import: no library named (scheme basic) (looked for scheme/basic.sld in ")
    assert program_error("(import (scheme base)\n        (scheme basic))").startswith(
        "p.scm:2:9: syntax error: import: no library named (scheme basic)")
    assert "bad library name" in program_error("(import (scheme \"base\"))")


def test_an_import_that_fails_imports_nothing():
    # (nablisp -i goes on at such a program's top level: only import is bound there)
    interp = Interpreter()
    with pytest.raises(NablispError, match="no library named"):
        interp.run_program("(import (scheme base) (scheme write) (no such library))", "p.scm")
    interp.enter_program()
    for name in ("car", "display"):
        with pytest.raises(NablispError, match=f"unbound variable: {name}"):
            interp.evaluate(name)
    assert program("(import (scheme base)) (car '(1 2))", interp) == 1


def test_a_program_that_imports_sees_only_what_it_imports():
    assert "unbound variable: gradient" in program_error(
        "(import (scheme base)) (gradient (lambda (x) (* x x)) 3)")
    assert program("(import (scheme base) (nablisp)) (gradient (lambda (x) (* x x)) 3)") == 6
    # (nablisp) alone is the whole language, as a script without import has it
    assert program("(import (nablisp)) (define (f x) (* x x x)) ((D f) 2)") == 12
    # the same binding imported twice is no conflict
    assert program("(import (scheme base) (scheme r5rs) (nablisp)) (car '(1))") == 1


def test_a_program_defining_a_prelude_name_does_not_break_the_prelude():
    source = "(import (nablisp)) (define (iota n) 'mine) (list (iota 3) (list-tabulate 3 (lambda (i) i)))"
    assert program(source) == [Symbol("mine"), [0, 1, 2]]


def test_the_default_environment_imports_add_bindings():
    interp = Interpreter()
    interp.evaluate("(import (prefix (scheme base) b:))")
    assert interp.eval("(list (b:car '(1)) (car '(2)))") == [1, 2]


def test_eval_in_environments():
    interp = Interpreter()
    assert interp.eval("(eval '(* 7 3) (environment '(scheme base)))") == 21
    with pytest.raises(NablispError, match="unbound variable: gradient"):
        interp.eval("(eval '(gradient car 1) (environment '(scheme base)))")
    assert interp.eval("(eval '(+ 1 2) (scheme-report-environment 5))") == 3
    interp.eval("(eval '(define from-eval 4) (interaction-environment))")
    assert interp.eval("from-eval") == 4
    with pytest.raises(NablispError, match="environment: import: no library named"):
        interp.eval("(environment '(no such))")


# -- libraries of a program's own --------------------------------------------------------------

def test_define_library_keeps_its_definitions_private():
    source = """
    (define-library (counter)
      (export next! (rename peek current))
      (import (scheme base))
      (begin (define count 0)
             (define (next!) (set! count (+ count 1)) count)
             (define (peek) count)))
    (define-library (other)
      (export other-count)
      (import (scheme base))
      (begin (define count 100)
             (define (other-count) count)))
    (import (scheme base) (counter) (other))
    (define count 'mine)
    (next!) (next!)
    (list (current) (other-count) count)
    """
    assert program(source) == [2, 100, Symbol("mine")]
    assert "unbound variable: peek" in program_error(
        "(define-library (c) (export (rename peek current)) (import (scheme base)) (begin (define (peek) 1)))"
        "(import (c)) (peek)")


def test_an_exported_macro_means_its_library_names_wherever_it_is_used():
    source = """
    (define-library (swapper)
      (export swap!)
      (import (scheme base))
      (begin (define (exchange a b) (cons b a))
             (define-syntax swap!
               (syntax-rules ()
                 ((_ x y) (let ((pair (exchange x y))) (set! x (car pair)) (set! y (cdr pair))))))))
    (import (only (scheme base) define list) (swapper))
    (define exchange list)
    (define p 1) (define q 2)
    (swap! p q)
    (list p q)
    """
    assert program(source) == [2, 1]


def test_conflicting_imports_and_bad_declarations_are_errors():
    assert "import: car is imported twice with different meanings" in program_error(
        "(define-library (k) (export car) (import (scheme base)) (begin (define car 1)))"
        "(import (scheme base) (k))")
    assert "define-library (k): unknown declaration (exports car)" in program_error(
        "(define-library (k) (exports car))")
    assert "define-library: (k) is already defined" in program_error(
        "(define-library (k) (export)) (define-library (k) (export))")


def test_cond_expand_library_requirements():
    source = """
    (import (scheme base))
    (define-library (mine) (export) (import (scheme base)))
    (list (cond-expand ((library (scheme base)) 'yes) (else 'no))
          (cond-expand ((library (no such)) 'yes) (else 'no))
          (cond-expand ((library (mine)) 'yes) (else 'no))
          (cond-expand ((and r7rs (library (nablisp))) 'both) (else 'no)))
    """
    assert program(source) == [Symbol(s) for s in ("yes", "no", "yes", "both")]


def test_a_library_body_may_use_cond_expand_and_include(tmp_path):
    (tmp_path / "body.scm").write_text("(define (triple x) (* 3 x))\n")
    (tmp_path / "main.scm").write_text("""
    (define-library (tri)
      (export triple)
      (cond-expand (r7rs (import (scheme base))) (else))
      (include "body.scm"))
    (import (scheme base) (tri))
    (triple 5)
    """)
    assert Interpreter().load(tmp_path / "main.scm", program=True) == 15


# -- library files --------------------------------------------------------------------------------

def write_library(directory, name, text):
    path = directory.joinpath(*name[:-1], name[-1] + ".sld")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


SHAPES = """(define-library (geometry shapes)
  (export area)
  (import (scheme base) (scheme write))
  (begin
    (display "shapes loaded\\n")
    (define (area r) (* 3 r r))))
"""

PLOTS = """(define-library (geometry plots)
  (export plot)
  (import (scheme base) (geometry shapes))
  (begin (define (plot r) (list 'area (area r)))))
"""


def test_library_files_are_found_next_to_the_script_and_loaded_once(tmp_path):
    write_library(tmp_path, ("geometry", "shapes"), SHAPES)
    write_library(tmp_path, ("geometry", "plots"), PLOTS)
    script = tmp_path / "main.scm"
    script.write_text("(import (scheme base) (scheme write) (geometry plots) (geometry shapes))\n"
                      "(write (list (plot 2) (area 1)))\n")
    result = run([str(script)], cwd="/")
    assert result.stderr == ""
    assert result.stdout == "shapes loaded\n((area 12) 3)"


def test_library_directories_from_the_command_line_and_the_environment(tmp_path):
    libraries = tmp_path / "libs"
    write_library(libraries, ("geometry", "shapes"), SHAPES)
    script = tmp_path / "elsewhere" / "main.scm"
    script.parent.mkdir()
    script.write_text("(import (scheme base) (scheme write) (geometry shapes)) (write (area 2))")
    assert run([str(script)]).returncode != 0
    result = run(["-I", str(libraries), str(script)])
    assert (result.returncode, result.stdout) == (0, "shapes loaded\n12")
    environment = dict(os.environ, NABLISP_PATH=str(libraries))
    result = run([str(script)], env=environment)
    assert (result.returncode, result.stdout) == (0, "shapes loaded\n12")


def test_an_error_in_a_library_file_names_the_library_file(tmp_path):
    path = write_library(tmp_path, ("broken",), "(define-library (broken)\n  (export f)\n"
                                                "  (import (scheme base))\n  (begin (define (f x) (car x))))\n")
    script = tmp_path / "main.scm"
    script.write_text("(import (scheme base) (broken))\n(f 5)\n")
    result = run([str(script)])
    assert result.stderr.splitlines()[0] == f"{path}:4:24: error: car: expected a pair, got 5"
    assert "Traceback" not in result.stderr


def test_an_import_cycle_is_an_error(tmp_path):
    write_library(tmp_path, ("a",), "(define-library (a) (export) (import (b)))")
    write_library(tmp_path, ("b",), "(define-library (b) (export) (import (a)))")
    script = tmp_path / "main.scm"
    script.write_text("(import (a))")
    result = run([str(script)])
    assert "import: (a) imports itself (through (a), (b))" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_does_not_define_the_library(tmp_path):
    write_library(tmp_path, ("empty",), "(define x 1)")
    script = tmp_path / "main.scm"
    script.write_text("(import (empty))")
    result = run([str(script)])
    assert f"{tmp_path / 'empty.sld'}:1:1: syntax error: a library file holds define-library forms only, " \
           "not (define x 1)" in result.stderr
    write_library(tmp_path, ("empty",), "(define-library (full) (export))")
    result = run([str(script)])
    assert "does not define the library (empty)" in result.stderr


# -- the rest of the language works through libraries ---------------------------------------------

def test_derivatives_tail_calls_and_rules_through_a_library():
    source = """
    (define-library (model)
      (export loss count-down cube)
      (import (scheme base) (nablisp))
      (begin
        (define (loss w) (* (- (car w) 1) (- (car w) 1) (cadr w)))
        (define (count-down n) (if (= n 0) 'done (count-down (- n 1))))
        (define (cube x) (* x x x))
        (define-derivative (cube x) (* 3 x x))))
    (import (scheme base) (model) (only (nablisp) gradient D hessian))
    (list (gradient loss '(3 2)) (hessian loss '(3 2)) (count-down 100000) ((D cube) 2) ((D (D cube)) 2))
    """
    assert program(source) == [[8, 4], [[4, 4], [4, 0]], Symbol("done"), 12, 12]



def test_every_standard_name_but_complex_numbers_is_there():
    missing = Interpreter().libraries.missing
    assert {name for _, name in missing} == {"angle", "imag-part", "make-polar", "make-rectangular", "real-part"}


def test_the_srfis_r7rs_adopted_import_by_number():
    assert program("(import (scheme base) (srfi 8) (srfi 9) (srfi 39))"
                   "(define-record-type point (make-point x) point? (x point-x))"
                   "(define p (make-parameter 2))"
                   "(receive (a . rest) (values 1 2 3) (list a rest (point-x (make-point 4)) (p)))") == \
        [1, [2, 3], 4, 2]
