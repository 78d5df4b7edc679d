"""The `nablisp` command as a user runs it: scripts, -e, stdin, exit codes, messages."""

import shutil
import subprocess
import sys

import pytest

from nablisp.interpreter.cli import EXIT_NO_INPUT, EXIT_RUNTIME, EXIT_SYNTAX, EXIT_USAGE


def run(args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_script_runs_and_gets_its_arguments(tmp_path):
    script = tmp_path / "hello.scm"
    script.write_text('(display "hello ") (write (cdr (command-line))) (newline)')
    result = run([str(script), "a", "b"])
    assert result.returncode == 0
    assert result.stdout == 'hello ("a" "b")\n'
    assert result.stderr == ""


def test_runtime_error_is_reported_with_position_and_backtrace(tmp_path):
    script = tmp_path / "bad.scm"
    script.write_text("(define (f x)\n  (car x))\n(display \"before\")\n(f 3)\n")
    result = run([str(script)])
    assert result.returncode == EXIT_RUNTIME
    assert result.stdout == "before"
    lines = result.stderr.splitlines()
    assert lines[0] == f"{script}:2:3: error: car: expected a pair, got 3"
    assert lines[1] == f"  in f at {script}:2:3"
    assert "Traceback" not in result.stderr


def test_syntax_error_exit_code_and_nothing_runs(tmp_path):
    script = tmp_path / "syntax.scm"
    script.write_text('(display "should not print")\n(let ((x 1 2)) x)\n')
    result = run([str(script)])
    assert result.returncode == EXIT_SYNTAX
    assert result.stdout == ""
    assert result.stderr.startswith(f"{script}:2:7: syntax error: let: each binding must be")


def test_read_error_exit_code(tmp_path):
    script = tmp_path / "read.scm"
    script.write_text("(display 1)\n(display (+ 1 2)\n")
    result = run([str(script)])
    assert result.returncode == EXIT_SYNTAX
    assert result.stderr.startswith(f"{script}:2:1: read error: missing ')'")


def test_usage_errors():
    result = run(["--no-such-flag"])
    assert result.returncode == EXIT_USAGE
    assert "usage: nablisp" in result.stderr


def test_a_script_that_cannot_be_opened_exits_with_no_input(tmp_path):
    result = run(["/no/such/file.scm"])
    assert result.returncode == EXIT_NO_INPUT == 66
    assert result.stderr == "nablisp: cannot open /no/such/file.scm: no such file\n"
    result = run([str(tmp_path)])
    assert result.returncode == EXIT_NO_INPUT
    assert result.stderr == f"nablisp: cannot open {tmp_path}: it is a directory\n"


def test_eval_option_is_repeatable_and_prints_values():
    result = run(["-e", "(define x 20)", "-e", "(+ x 1)", "-e", "'(a \"b\")", "-e", "(values 1 2)"])
    assert result.returncode == 0
    assert result.stdout == '21\n(a "b")\n1\n2\n'


def test_version_and_help():
    assert run(["--version"]).stdout.startswith("nablisp ")
    assert "evaluate EXPR" in run(["--help"]).stdout


def test_program_from_stdin_with_dash():
    result = run(["-"], stdin='(display "from stdin")\n(exit 3)\n(display "not reached")')
    assert result.stdout == "from stdin"
    assert result.returncode == 3


@pytest.mark.parametrize("code, status", [("(exit)", 0), ("(exit #t)", 0), ("(exit #f)", 1), ("(exit 7)", 7)])
def test_exit_codes(code, status):
    assert run(["-e", code]).returncode == status


def test_exit_runs_dynamic_wind_after_thunks():
    result = run(["-e", '(dynamic-wind (lambda () #f) (lambda () (exit 4)) (lambda () (display "after")))'])
    assert (result.returncode, result.stdout) == (4, "after")


def test_piped_stdin_is_read_form_by_form():
    program = '(define x 5)\n(+ x 1)\n(car 1)\n(* x\n   2)\n"text"\n(values 1 2)\n(if #f #f)\n'
    result = run([], stdin=program)
    assert result.returncode == EXIT_RUNTIME      # every form ran; the status is the error's
    assert result.stdout == '6\n10\n"text"\n1\n2\n'
    assert result.stderr == "<stdin>:3:1: error: car: expected a pair, got 1\n"


def test_piped_stdin_reports_read_errors_and_goes_on():
    result = run([], stdin="(+ 1 2)\n)\n(+ 3 4)\n")
    assert result.stdout == "3\n7\n"
    assert "<stdin>:2:1: read error: unexpected ')'" in result.stderr
    assert result.returncode == EXIT_SYNTAX


def test_piped_stdin_exits_with_the_status_of_the_first_error():
    assert run([], stdin="(+ 1 2)\n(display 3)\n").returncode == 0
    result = run([], stdin="(car 1)\n)\n(+ 1 2)\n")
    assert (result.returncode, result.stdout) == (EXIT_RUNTIME, "3\n")
    assert run([], stdin=")\n(car 1)\n").returncode == EXIT_SYNTAX
    assert run([], stdin="(car 1)\n(exit 4)\n").returncode == 4


def test_piped_stdin_starts_each_value_on_a_line_of_its_own():
    result = run([], stdin='(display "hello")\n(+ 1 2)\n(display "no newline")\n')
    assert result.stdout == "hello\n3\nno newline"


def test_piped_stdin_exit():
    result = run([], stdin="(display 1)\n(exit 9)\n(display 2)\n")
    assert (result.stdout, result.returncode) == ("1", 9)


def test_load_is_relative_to_the_loading_file(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper.scm").write_text("(define (helper) 'helped)")
    (tmp_path / "lib" / "main.scm").write_text('(load "helper.scm") (display (helper))')
    result = run([str(tmp_path / "lib" / "main.scm")], cwd=str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "helped")


def test_load_of_a_relative_name_looks_in_the_current_directory_first(tmp_path):
    # R7RS programs (Larceny's test suite among them) name files relative to where they run
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "part.scm").write_text("(define (part) 'from-cwd)")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "main.scm").write_text(
        '(load "data/part.scm") (display (part))')
    result = run([str(tmp_path / "run" / "main.scm")], cwd=str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "from-cwd")


def test_load_into_an_environment(tmp_path):
    (tmp_path / "part.scm").write_text("(define shown (max 3 9)) (display shown)")
    (tmp_path / "main.scm").write_text(
        "(import (scheme base) (scheme load) (scheme eval) (scheme repl) (scheme write))\n"
        "(define (poor-max . xs) 42)\n"
        "(load \"part.scm\" (environment '(except (scheme base) max) '(scheme write)\n"
        "                                 '(rename (only (scheme base) min) (min max))))\n"
        "(newline)\n"
        "(load \"part.scm\" (interaction-environment))\n"
        "(newline)\n"
        "(display (eval 'shown (interaction-environment)))\n"
        "(load \"part.scm\" 'not-an-environment)\n")
    result = run([str(tmp_path / "main.scm")], cwd=str(tmp_path))
    assert result.stdout == "3\n9\n9"
    assert "load: expected an environment, got not-an-environment" in result.stderr


def test_deep_recursion_works_in_scripts(tmp_path):
    script = tmp_path / "deep.scm"
    script.write_text("""
(define (build n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (cons i acc)))))
(define (sum l) (if (null? l) 0 (+ (car l) (sum (cdr l)))))
(display (sum (build 100000)))
""")
    result = run([str(script)])
    assert (result.returncode, result.stdout) == (0, "4999950000")


def test_runaway_recursion_is_a_clean_error(tmp_path):
    script = tmp_path / "runaway.scm"
    script.write_text("(define (deep n) (+ 1 (deep n)))\n(deep 0)\n")
    result = run([str(script)])
    assert result.returncode == EXIT_RUNTIME
    assert "recursion too deep" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) < 12


@pytest.mark.skipif(shutil.which("head") is None, reason="pipes the output into head(1) through a shell")
def test_broken_pipe_exits_quietly(tmp_path):
    script = tmp_path / "big.scm"
    # a guard must not catch the broken pipe: it is not an error of the program
    script.write_text('(guard (e (#t (display "guard saw a broken pipe" (current-error-port))))\n'
                      '  (let loop ((i 0)) (when (< i 200000) (display i) (newline) (loop (+ i 1)))))')
    pipeline = subprocess.run(f'"{sys.executable}" -m nablisp.interpreter.cli "{script}" | head -1',
                              shell=True, capture_output=True, text=True, timeout=120)
    assert pipeline.stdout == "0\n"
    assert pipeline.stderr == ""


def test_interactive_option_loads_the_file_then_reads_forms(tmp_path):
    script = tmp_path / "defs.scm"
    script.write_text("(define (helper) 'from-file)")
    result = run(["-i", str(script)], stdin="(helper)\n")
    assert (result.returncode, result.stdout) == (0, "from-file\n")


def test_interactive_after_a_program_goes_on_at_the_programs_top_level(tmp_path):
    # a program that begins with import has a top level of its own: what is typed after it sees
    # what the program imported and defined, an error loses none of it, and import adds more
    script = tmp_path / "program.scm"
    script.write_text("(import (scheme base) (scheme write))\n(define greeting \"hi\")\n"
                      "(define (double x) (* 2 x))\n(display \"loaded\") (newline)\n")
    result = run(["-i", str(script)], stdin="(double 21)\ngreeting\n(car 1)\n(define z (double 2))\nz\n"
                                              "(D sin)\n(import (nablisp))\n((D square) 3)\n")
    assert result.stdout == "loaded\n42\n\"hi\"\n4\n6\n", result.stderr
    errors = result.stderr.splitlines()
    assert errors[0] == "<stdin>:3:1: error: car: expected a pair, got 1"
    assert errors[1].startswith("<stdin>:6:1: error: unbound variable: D")
    # after a program whose import failed, too: it imported nothing, and import is there
    script.write_text("(import (scheme base) (no such library))\n")
    result = run(["-i", str(script)], stdin="(import (scheme base))\n(+ 1 2)\n")
    assert "program.scm:1:23: syntax error: import: no library named (no such library)" in result.stderr
    assert result.stdout == "3\n", result.stderr


def test_the_command_line_freezes_start_up_objects_and_collects_young_objects_less_often():
    probe = ("import gc, sys\n"
             "from nablisp.interpreter.cli import main\n"
             "before = gc.get_freeze_count()\n"
             "main(['-e', '(define (f x) (* x x))'])\n"
             "print(before, gc.get_freeze_count() > 10_000, gc.get_threshold()[0])\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.split()[-3:] == ["0", "True", "10000"], result.stdout + result.stderr


def test_settling_the_collector_respects_a_switched_off_or_higher_setting():
    probe = ("import gc\n"
             "from nablisp.interpreter import settle_collector\n"
             "gc.set_threshold(0)\n"
             "settle_collector()\n"
             "first = gc.get_threshold()[0]\n"
             "gc.set_threshold(50_000)\n"
             "settle_collector()\n"
             "print(first, gc.get_threshold()[0])\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["0", "50000"], result.stdout + result.stderr
